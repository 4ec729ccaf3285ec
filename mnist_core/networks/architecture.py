"""What the two networks are made of, without building them: no TensorFlow here.

LeNet-5's C3 connection table and each model's feature layers (the layers the app shows, input
to output). `models` builds the Keras networks from these; `classifier` and the app read them
without importing Keras.
"""

from __future__ import annotations

import numpy as np

# LeCun et al. (1998), Table I: which S2 maps (rows 0-5) each C3 map (0-15) takes as input.
# Maps 0-5 see 3 contiguous S2 maps, 6-11 four contiguous, 12-14 four non-contiguous, 15 all six.
C3_TABLE = (
    (0, 1, 2), (1, 2, 3), (2, 3, 4), (3, 4, 5), (0, 4, 5), (0, 1, 5),
    (0, 1, 2, 3), (1, 2, 3, 4), (2, 3, 4, 5), (0, 3, 4, 5), (0, 1, 4, 5), (0, 1, 2, 5),
    (0, 1, 3, 4), (1, 2, 4, 5), (0, 2, 3, 5),
    (0, 1, 2, 3, 4, 5),
)

# Each model's layers whose outputs `Classifier.activations` returns, input to output.
FEATURE_LAYERS = {"mlp": ("hidden1", "hidden2", "output"), "lenet5": ("C1", "S2", "C3", "S4", "C5", "F6", "output")}


def connection_matrix(table=C3_TABLE, inputs: int = 6) -> np.ndarray:
    """(inputs, len(table)) bool: True where input map i feeds output map j."""
    matrix = np.zeros((inputs, len(table)), bool)
    for j, sources in enumerate(table):
        matrix[list(sources), j] = True
    return matrix
