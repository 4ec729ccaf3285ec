"""mnist_core.networks.models: LeNet-5's C3 connection table against the paper, the layer shapes and
parameter counts of both networks, and SparseConv2D's mask (it acts, and it survives saving)."""

import numpy as np
import pytest

from mnist_core.networks.models import (C3_TABLE, SparseConv2D, build_lenet5, build_mlp, connection_matrix, keras,
    layer_table)

# LeCun, Bottou, Bengio and Haffner (1998), "Gradient-based learning applied to document
# recognition", Table I: "Each column indicates which feature map in S2 are combined by the
# units in a particular feature map of C3." Rows: S2 maps 0-5; columns: C3 maps 0-15.
PAPER_TABLE_I = """
X . . . X X X . . X X X X . X X
X X . . . X X X . . X X X X . X
X X X . . . X X X . . X . X X X
. X X X . . X X X X . . X . X X
. . X X X . . X X X X . X X . X
. . . X X X . . X X X X . X X X
"""


def paper_matrix():
    rows = [line.split() for line in PAPER_TABLE_I.strip().splitlines()]
    return np.array([[cell == "X" for cell in row] for row in rows])


def test_c3_table_is_lecuns_table_one():
    matrix = paper_matrix()
    assert matrix.shape == (6, 16)
    np.testing.assert_array_equal(connection_matrix(C3_TABLE), matrix)
    assert matrix.sum() == 60 == sum(len(sources) for sources in C3_TABLE)
    # the paper's description: 6 maps see 3 contiguous S2 maps, 6 see 4 contiguous, 3 see 4
    # non-contiguous, and the last sees all 6
    assert [len(s) for s in C3_TABLE] == [3] * 6 + [4] * 9 + [6]


def rows_by_name(model):
    return {row["layer"]: row for row in layer_table(model)}


def test_lenet5_layers_shapes_and_parameters_match_the_paper():
    rows = rows_by_name(build_lenet5())
    shapes = {name: row["output_shape"] for name, row in rows.items()}
    assert shapes == {
        "channels": (28, 28, 1), "pad32": (32, 32, 1), "C1": (28, 28, 6), "S2": (14, 14, 6),
        "C3": (10, 10, 16), "S4": (5, 5, 16), "C5": (1, 1, 120), "flatten": (120,), "F6": (84,),
        "dropout": (84,), "output": (10,),
    }
    # trainable parameters as in the paper (C3: 60 x 25 weights + 16 biases = 1,516)
    assert {name: rows[name]["parameters"] for name in ("C1", "C3", "C5", "F6")} == {
        "C1": 156, "C3": 1516, "C5": 48120, "F6": 10164}
    assert rows["output"]["parameters"] == 850  # 84 x 10 + 10 (the paper's RBF layer had 840, no bias)
    # the paper's connection counts are multiply-adds plus one bias per output unit
    assert rows["C1"]["multiply_adds"] + 28 * 28 * 6 == 122_304
    assert rows["C3"]["multiply_adds"] + 10 * 10 * 16 == 151_600
    assert rows["C5"]["multiply_adds"] + 120 == 48_120


def test_mlp_is_the_seed_tutorials_architecture():
    model = build_mlp()
    assert [type(layer).__name__ for layer in model.layers] == ["Flatten", "Dense", "Dense", "Dropout", "Dense"]
    _, hidden1, hidden2, dropout, output = model.layers
    assert [hidden1.units, hidden2.units, output.units] == [512, 128, 10]
    assert [layer.activation.__name__ for layer in (hidden1, hidden2, output)] == ["relu", "relu", "softmax"]
    assert dropout.rate == 0.2
    assert [layer.name for layer in model.layers] == ["flatten", "hidden1", "hidden2", "dropout", "output"]
    assert model.count_params() == 784 * 512 + 512 + 512 * 128 + 128 + 128 * 10 + 10 == 468_874
    assert {name: row["output_shape"] for name, row in rows_by_name(model).items()} == {
        "flatten": (784,), "hidden1": (512,), "hidden2": (128,), "dropout": (128,), "output": (10,)}


@pytest.mark.parametrize("build", [build_mlp, build_lenet5])
def test_models_output_probabilities(build):
    model = build()
    x = np.random.default_rng(0).random((3, 28, 28), dtype=np.float32)
    out = keras.ops.convert_to_numpy(model(x, training=False))
    assert out.shape == (3, 10)
    np.testing.assert_allclose(out.sum(axis=1), 1, atol=1e-5)


@pytest.fixture
def c3():
    keras.utils.set_random_seed(0)
    layer = SparseConv2D(C3_TABLE, kernel_size=5, name="C3")
    layer.build((None, 14, 14, 6))
    x = np.random.default_rng(1).random((2, 14, 14, 6), dtype=np.float32)
    return layer, x


def output(layer, x):
    return keras.ops.convert_to_numpy(layer(x))


def test_unconnected_weights_do_not_act(c3):
    layer, x = c3
    before = output(layer, x)
    matrix = connection_matrix(C3_TABLE)
    kernel = keras.ops.convert_to_numpy(layer.kernel)
    unconnected = [(i, j) for i in range(6) for j in range(16) if not matrix[i, j]]
    changed = kernel.copy()
    for i, j in unconnected:
        changed[:, :, i, j] = 100.0
    layer.kernel.assign(changed)
    np.testing.assert_array_equal(output(layer, x), before)
    # a connected weight does act, on its own output map only
    i, j = 0, 0
    assert matrix[i, j]
    changed[2, 2, i, j] += 1.0
    layer.kernel.assign(changed)
    after = output(layer, x)
    assert not np.allclose(after[..., j], before[..., j])
    np.testing.assert_array_equal(after[..., 1:], before[..., 1:])
    np.testing.assert_array_equal(layer.masked_kernel()[:, :, ~matrix], 0)


def test_unconnected_weights_get_no_gradient(c3):
    import tensorflow as tf

    layer, x = c3
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(layer(x))
    gradient = tape.gradient(loss, layer.kernel.value).numpy()
    matrix = connection_matrix(C3_TABLE)
    assert (gradient[:, :, ~matrix] == 0).all()
    assert (gradient[:, :, matrix] != 0).any(axis=(0, 1)).all()


def test_the_table_survives_save_and_load_in_safe_mode(tmp_path):
    keras.utils.set_random_seed(0)
    model = build_lenet5()
    x = np.random.default_rng(2).random((4, 28, 28), dtype=np.float32)
    expected = keras.ops.convert_to_numpy(model(x, training=False))
    path = tmp_path / "lenet5.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, compile=False, safe_mode=True)
    c3 = loaded.get_layer("C3")
    assert isinstance(c3, SparseConv2D)
    assert [tuple(s) for s in c3.table] == list(C3_TABLE)
    np.testing.assert_array_equal(c3.masked_kernel(), model.get_layer("C3").masked_kernel())
    np.testing.assert_allclose(keras.ops.convert_to_numpy(loaded(x, training=False)), expected, atol=1e-6)
    assert rows_by_name(loaded)["C3"]["parameters"] == 1516


def test_lenet5_paper_variant_swaps_activation_and_pooling_only():
    """The ablation in the model card compares against tanh + average pooling: same shapes and
    parameters, only the activation and the pooling differ."""
    modern, paper = build_lenet5(), build_lenet5(activation="tanh", pooling="average")
    assert [r["output_shape"] for r in layer_table(paper)] == [r["output_shape"] for r in layer_table(modern)]
    assert [r["parameters"] for r in layer_table(paper)] == [r["parameters"] for r in layer_table(modern)]
    assert isinstance(paper.get_layer("S2"), keras.layers.AveragePooling2D)
    assert isinstance(modern.get_layer("S2"), keras.layers.MaxPooling2D)
    assert paper.get_layer("C3").activation is keras.activations.tanh
    assert modern.get_layer("C3").activation is keras.activations.relu
