"""The data sets and what is computed over them: MNIST, pen-drawn digits (pendigits, UJI), the drawn
test sets, drawings that are no digit, composed numbers, photos of paper, statistics and 2-D maps.

    data          MNIST from local files, the Keras cache or a download, validated
    pendigits     pendigits' and UJI's pen trajectories drawn as the canvas would receive them
    drawn         the drawn-digit test sets (MNIST redrawn, hand-drawn styles)
    negatives     drawings that are not digits (letters, shapes, taps, scribbles)
    composed      numbers composed from real pen digits, and how well `numbers` reads them
    paper_photos  photo-like images of pen digits on paper, and how well the photo path reads them
    stats         class counts, pixel statistics and mean images of MNIST
    embedding     PCA and t-SNE maps of the images, and placing a new image on them

May import: mnist_core.imaging, mnist_core.pen, mnist_core.networks, mnist_core.reading.
"""
