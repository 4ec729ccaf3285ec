"""What a teacher points at: why one digit and not another, where a unit looks, what feeds a map.

    contrast(clf, image28, 7, 1)   # saliency of 7, of 1, and their difference (1: e.g. result.runner_up)
    smoothgrad(clf, image28, 7)    # saliency of 7 averaged over noisy copies: the noise of one gradient gone
    receptive_field(clf.model, "C3", 4, 6)   # the input pixels that C3 unit (4, 6) sees
    receptive_fields(clf.model, "C3", 10, 10)  # ... of every unit of a C3 map: (10, 10, 4)
    map_kernels(clf, "S4", 5)                # the kernels behind S4 map 5 (C3's map 5 kernels)

Everything is computed from the classifier (`Classifier.saliency`, its Keras layers and kernels);
nothing here knows the app. Each of these needs the Keras model, so each loads TensorFlow on first
use; importing this module does not.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..networks.architecture import connection_matrix


@dataclass(frozen=True)
class Contrast:
    """Why `label` and not `other`, per input pixel, each (28, 28) float32:

    label_map: gradient of `label`'s logit (red: more ink here would raise that score).
    other_map: gradient of `other`'s logit.
    difference: label_map - other_map, the gradient of (logit[label] - logit[other]): positive
                where more ink would favour `label` over `other`, negative where it would favour
                `other`. Logits, not probabilities: the softmax's gradients shrink to nothing when
                the model is sure.
    """

    label: int
    other: int
    label_map: np.ndarray
    other_map: np.ndarray
    difference: np.ndarray


def contrast(classifier, image28: np.ndarray, label: int, other: int) -> Contrast:
    """Saliency of `label` and of `other` for one (28, 28) float32 input, and their difference.
    Raises ValueError for a class outside 0-9 or `other` == `label`."""
    for digit in (label, other):
        if not 0 <= int(digit) <= 9:
            raise ValueError(f"a digit is 0 to 9, not {digit}")
    if int(label) == int(other):
        raise ValueError("compare the answer with another digit, not with itself")
    label_map = classifier.saliency(image28, int(label))
    other_map = classifier.saliency(image28, int(other))
    return Contrast(int(label), int(other), label_map, other_map, (label_map - other_map).astype(np.float32))


SMOOTHGRAD_COPIES = 32  # noisy copies averaged (Smilkov et al. 2017: the map settles by 20-50)
SMOOTHGRAD_SIGMA = 0.15  # the noise's standard deviation, as a share of the input's value range


def smoothgrad(classifier, image28: np.ndarray, label: int, copies: int = SMOOTHGRAD_COPIES,
               sigma: float = SMOOTHGRAD_SIGMA, seed: int = 0) -> np.ndarray:
    """SmoothGrad (Smilkov et al. 2017): the saliency of `label` (its logit's gradient, 0-9)
    averaged over `copies` copies of the (28, 28) float32 input with Gaussian noise of standard
    deviation `sigma` times the input's range (max - min) added, all in one batched call
    (`Classifier.saliency_batch`). Returns (28, 28) float32. A single gradient of a ReLU network
    jumps from pixel to pixel: for LeNet-5 and a drawn 7, noise too faint to see (sd 0.05) leaves
    the plain map correlated only 0.5 with itself, SmoothGrad's 0.84. Deterministic (`seed`), so
    the same drawing always gives the same map."""
    if not 0 <= int(label) <= 9:
        raise ValueError(f"a digit is 0 to 9, not {label}")
    image = np.asarray(image28, np.float32).reshape(28, 28)
    scale = sigma * float(image.max() - image.min())
    noise = np.random.default_rng(seed).normal(0.0, 1.0, (copies, 28, 28)).astype(np.float32) * scale
    return classifier.saliency_batch(image[None] + noise, int(label)).mean(axis=0).astype(np.float32)


def receptive_field(model, layer: str, row: int, col: int) -> tuple[int, int, int, int]:
    """The input pixels one unit of `layer` depends on: (top, left, bottom, right), half-open,
    clipped to the model's input (e.g. 28x28). Follows the model's layers from the input:
    zero padding, convolutions and pooling narrow it down (kernel, stride, "same"/"valid");
    after a Flatten or Dense layer a unit sees the whole input. For LeNet-5: C1 5x5, S2 6x6,
    C3 14x14, S4 16x16, C5 and later the whole 28x28 (less at the borders, where clipped)."""
    return tuple(int(v) for v in _fields(model, layer, np.array(row), np.array(col)))


def receptive_fields(model, layer: str, height: int, width: int) -> np.ndarray:
    """`receptive_field` of every unit of a (height, width) map of `layer`: (height, width, 4)
    int64 (top, left, bottom, right), half-open."""
    rows, cols = np.mgrid[0:height, 0:width]
    return np.stack(_fields(model, layer, rows, cols), axis=-1)


def _fields(model, layer: str, rows: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, ...]:
    """Receptive fields of units at int arrays `rows`, `cols` (same shape): (top, left, bottom, right)."""
    import keras  # already imported with `model`

    layers = [found for found in model.layers if not isinstance(found, keras.layers.InputLayer)]
    names = [found.name for found in layers]
    if layer not in names:
        raise ValueError(f"no layer {layer!r} in {model.name} (its layers: {', '.join(names)})")
    height, width = model.inputs[0].shape[1:3]
    whole = (np.zeros_like(rows), np.zeros_like(cols), np.full_like(rows, height), np.full_like(cols, width))
    top, left, bottom, right = rows, cols, rows, cols  # inclusive, in the current layer's coordinates
    for found in reversed(layers[: names.index(layer) + 1]):
        if isinstance(found, (keras.layers.Flatten, keras.layers.Dense)):
            return whole
        if isinstance(found, keras.layers.ZeroPadding2D):
            (pad_top, _), (pad_left, _) = found.padding
            top, bottom, left, right = top - pad_top, bottom - pad_top, left - pad_left, right - pad_left
        elif isinstance(found, keras.layers.Conv2D):
            (kr, kc), (sr, sc) = found.kernel_size, found.strides
            pr, pc = ((kr - 1) // 2, (kc - 1) // 2) if found.padding == "same" else (0, 0)
            top, bottom = top * sr - pr, bottom * sr - pr + kr - 1
            left, right = left * sc - pc, right * sc - pc + kc - 1
        elif isinstance(found, (keras.layers.MaxPooling2D, keras.layers.AveragePooling2D)):
            (kr, kc), (sr, sc) = found.pool_size, found.strides
            top, bottom = top * sr, bottom * sr + kr - 1
            left, right = left * sc, right * sc + kc - 1
    return (np.maximum(top, 0), np.maximum(left, 0), np.minimum(bottom + 1, height), np.minimum(right + 1, width))


def map_kernels(classifier, layer: str, index: int) -> tuple[str, np.ndarray, np.ndarray]:
    """The learned kernels behind feature map `index` of a LeNet-5 layer.

    Returns (convolution, inputs, kernels): the convolution layer that made the map ("C1" for C1
    and S2, "C3" for C3 and S4: pooling has no weights), the input maps it reads, (n,) int, and
    their kernels, (kh, kw, n) float32 (C1: the one 5x5 kernel on the image; C3: one per S2 map
    the connection table links to this map, 3 to 6 of them).
    """
    convolution = {"C1": "C1", "S2": "C1", "C3": "C3", "S4": "C3"}.get(layer)
    if convolution is None:
        raise ValueError(f"{layer} has no feature maps with kernels (choose C1, S2, C3 or S4)")
    kernel = classifier.kernels(convolution)  # (kh, kw, in, out), unconnected C3 weights zeroed
    if not 0 <= index < kernel.shape[3]:
        raise ValueError(f"{layer} has maps 0 to {kernel.shape[3] - 1}, not {index}")
    table = getattr(classifier.model.get_layer(convolution), "table", None)  # C3's connection table
    connected = connection_matrix(table, kernel.shape[2])[:, index] if table else np.ones(kernel.shape[2], bool)
    chosen = kernel[:, :, :, index]
    inputs = np.flatnonzero(connected)
    return convolution, inputs, np.ascontiguousarray(chosen[:, :, inputs], np.float32)
