"""Digits as pen strokes: rasterising them, the canvas's vector paths, lesson links, handwriting styles.

    strokes       constant-width pen strokes rasterised; MNIST digits redrawn with a round brush
    canvas_paths  the drawing canvas's fabric.js paths <-> strokes
    lesson        a drawing's strokes as a short checked text for a teacher's link
    styles        handwriting styles MNIST hardly has, drawn onto MNIST's own digits

May import: mnist_core.imaging.
"""
