"""Images of a digit into the MNIST form: reading image files, measures of ink, the photo path
(light flattened, printed lines removed), the MNIST preprocessing, and augmentation.

    images      an image file or its bytes -> a pixel array, within limits
    ink         measures of ink shared by the canvas path, the photo path and the numbers reader
    photo       the digit found in a photo or scan of paper, every step kept
    preprocess  any image of a digit -> (28, 28) float32 in [0, 1], every step kept
    augment     seeded shifts, affine warps, elastic distortion, thickness and noise of (N, 28, 28) images

May import: nothing else in mnist_core.
"""
