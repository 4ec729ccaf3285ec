"""The two networks: the seed tutorial's MLP and LeNet-5 as LeCun et al. (1998) describe it.

Both take (N, 28, 28) float32 in [0, 1] and return (N, 10) softmax probabilities. Layers carry
stable names so the app can show each one's output: the MLP's `hidden1`, `hidden2`, `output`;
LeNet-5's `C1`, `S2`, `C3`, `S4`, `C5`, `F6`, `output`.
"""

from __future__ import annotations

import os
import sys

# Keras 3 on TensorFlow, as the product's design names it. Saliency uses tf.GradientTape and the
# fast path is a LiteRT export, so another backend chosen by the environment would not work.
if "keras" in sys.modules and sys.modules["keras"].backend.backend() != "tensorflow":
    raise ImportError("mnist_core needs Keras on TensorFlow: import it before keras, or set KERAS_BACKEND=tensorflow.")
os.environ["KERAS_BACKEND"] = "tensorflow"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's C++ start-up notices, not errors

from .quiet import native_stderr_silenced  # noqa: E402

with native_stderr_silenced():
    import keras  # noqa: E402  (imports TensorFlow)
import numpy as np  # noqa: E402
from keras import layers  # noqa: E402

from .architecture import C3_TABLE, FEATURE_LAYERS, connection_matrix  # noqa: E402, F401  (re-exported)


@keras.saving.register_keras_serializable(package="mnist_core")
class SparseConv2D(layers.Conv2D):
    """A Conv2D whose output map j sees only the input maps `table[j]` lists (LeNet-5's C3).

    The kernel is multiplied by a fixed 0/1 mask on every call, so the unconnected weights
    never act and get no gradient. The table is part of the layer's config: it survives
    saving and loading, and `masked_kernel()` gives the weights that are really used.
    """

    def __init__(self, table, **kwargs):
        super().__init__(filters=len(table), **{k: v for k, v in kwargs.items() if k != "filters"})
        self.table = [list(map(int, sources)) for sources in table]

    def build(self, input_shape):
        super().build(input_shape)
        matrix = connection_matrix(self.table, int(input_shape[-1]))
        self.mask = keras.ops.convert_to_tensor(matrix[None, None].astype("float32"))  # (1, 1, in, out)

    def convolution_op(self, inputs, kernel):
        return super().convolution_op(inputs, kernel * self.mask)

    def masked_kernel(self) -> np.ndarray:
        """(kh, kw, in_maps, out_maps) float32 kernel with unconnected weights set to 0."""
        return keras.ops.convert_to_numpy(self.kernel * self.mask)

    def get_config(self):
        config = super().get_config()
        config.pop("filters", None)
        return {**config, "table": self.table}


def build_mlp(dropout: float = 0.2) -> keras.Model:
    """The seed tutorial's MLP: Flatten(784) -> Dense 512 ReLU -> Dense 128 ReLU -> Dropout 0.2 -> Dense 10 softmax."""
    return keras.Sequential(
        [
            keras.Input((28, 28), name="image"),
            layers.Flatten(name="flatten"),
            layers.Dense(512, activation="relu", name="hidden1"),
            layers.Dense(128, activation="relu", name="hidden2"),
            layers.Dropout(dropout, name="dropout"),
            layers.Dense(10, activation="softmax", name="output"),
        ],
        name="mlp",
    )


def build_lenet5(dropout: float = 0.2, activation: str = "relu", pooling: str = "max") -> keras.Model:
    """LeNet-5 (LeCun et al. 1998) with the paper's layer sizes and C3 connection table.

    28x28 input padded to 32x32 -> C1 6@28x28 (5x5) -> S2 6@14x14 -> C3 16@10x10 (5x5, sparse,
    Table I) -> S4 16@5x5 -> C5 120@1x1 (5x5) -> F6 84 -> output 10 softmax.
    Modern choices instead of the paper's scaled tanh, trainable subsampling and RBF output:
    ReLU, 2x2 max pooling, dropout before the output and a softmax; the model card records
    their effect, measured against activation="tanh", pooling="average" (the paper's closest
    Keras equivalents) with the same training.
    """
    pool = {"max": layers.MaxPooling2D, "average": layers.AveragePooling2D}[pooling]
    return keras.Sequential(
        [
            keras.Input((28, 28), name="image"),
            layers.Reshape((28, 28, 1), name="channels"),
            layers.ZeroPadding2D(2, name="pad32"),
            layers.Conv2D(6, 5, activation=activation, name="C1"),
            pool(2, name="S2"),
            SparseConv2D(C3_TABLE, kernel_size=5, activation=activation, name="C3"),
            pool(2, name="S4"),
            layers.Conv2D(120, 5, activation=activation, name="C5"),
            layers.Flatten(name="flatten"),
            layers.Dense(84, activation=activation, name="F6"),
            layers.Dropout(dropout, name="dropout"),
            layers.Dense(10, activation="softmax", name="output"),
        ],
        name="lenet5",
    )


BUILDERS = {"mlp": build_mlp, "lenet5": build_lenet5}


def layer_table(model: keras.Model) -> list[dict]:
    """One row per layer: name, kind, output shape (without the batch), parameters, multiply-adds.

    Parameters count what the network really uses: C3's masked-out weights are not counted
    (LeNet-5's C3 has 1,516, as in the paper). Multiply-adds are per image, for convolutions
    and dense layers; pooling, padding and activations count 0.
    """
    rows = []
    for layer in model.layers:
        shape = tuple(layer.output.shape[1:])
        params = sum(int(np.prod(w.shape)) for w in layer.weights)
        macs = 0
        if isinstance(layer, layers.Conv2D):
            kh, kw, cin, cout = layer.kernel.shape
            connections = int(connection_matrix(layer.table, cin).sum()) if isinstance(layer, SparseConv2D) else cin * cout
            params = kh * kw * connections + (cout if layer.use_bias else 0)
            macs = shape[0] * shape[1] * kh * kw * connections
        elif isinstance(layer, layers.Dense):
            macs = int(np.prod(layer.kernel.shape))
        rows.append({"layer": layer.name, "kind": type(layer).__name__, "output_shape": shape,
                     "parameters": params, "multiply_adds": macs})
    return rows
