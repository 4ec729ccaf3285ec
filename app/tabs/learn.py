"""The Learn tab, for teachers and newcomers: what image classification is, how an image becomes
numbers, how MNIST was made, and the two networks layer by layer. Every table and picture is
computed from the project's own code and data; without the data, the pictures use a drawing."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from app import data_figures as figs
from app.data_cache import current_drawing, load_data
from app.figures import connection_table, preprocessing_strip
from app.resources import example_drawing, load_classifier
from mnist_core.imaging.preprocess import preprocess
from mnist_core.networks.architecture import C3_TABLE, connection_matrix

LENET_LAYERS = [
    ("Input", "28×28 pixels, padded with zeros to 32×32 as in the paper, so that strokes near the edge reach the "
              "centre of C1's 5×5 windows."),
    ("C1 · 6@28×28", "6 convolution filters of 5×5: each slides over the image and answers where its pattern "
                     "(an edge, a stroke end) appears, giving 6 feature maps of 28×28. {C1:,} parameters."),
    ("S2 · 6@14×14", "Subsampling: each map is halved (here 2×2 max pooling; the paper averaged with a trainable "
                     "weight). A one-pixel shift of the input now changes the maps much less: a first step to "
                     "tolerance of position. No parameters."),
    ("C3 · 16@10×10", "16 filters of 5×5, but each sees only some of S2's 6 maps (the table below, LeCun et al. "
                      "1998, Table I): fewer connections, and different maps are forced to combine different "
                      "features. {C3:,} parameters."),
    ("S4 · 16@5×5", "Subsampling again. No parameters."),
    ("C5 · 120@1×1", "120 filters of 5×5 over all 16 maps: on a 5×5 input each gives one number, so C5 is a fully "
                     "connected layer in all but name. {C5:,} parameters."),
    ("F6 · 84", "84 fully connected units (the paper's 84 matched a 7×12 picture of each character). "
                "{F6:,} parameters."),
    ("Output · 10", "One unit per digit; softmax turns them into probabilities that add up to 1 (the paper used "
                    "radial basis units)."),
]


@st.cache_data(show_spinner=False)
def _architecture(name: str) -> list[dict]:
    """The trained model's `layer_table`, as its card keeps it; without a model, a freshly built
    one's (same shapes; that alone loads TensorFlow)."""
    classifier, _ = load_classifier(name)
    if classifier is not None and classifier.card.get("architecture"):
        table = classifier.card["architecture"]
    else:
        from mnist_core.networks.models import BUILDERS, layer_table

        table = layer_table(BUILDERS[name]())
    return [{**row, "output_shape": " × ".join(map(str, row["output_shape"]))} for row in table]


def _example(data) -> tuple[np.ndarray, str]:
    """A real digit as (28, 28) uint8: the first training image, or without data the drawing."""
    if data is not None:
        return data.x_train[0], f"MNIST training image #0, labelled {data.y_train[0]}"
    drawing = current_drawing()
    if drawing is None:
        drawing = preprocess(example_drawing(), background=0.0).image
    return np.round(drawing * 255).astype(np.uint8), "a drawn 7 (no MNIST data here), as the model sees it"


def render(models: list[str], *args) -> None:
    """models: names from mnist_core.MODEL_NAMES chosen in the sidebar ("mlp", "lenet5")."""
    st.header("Learn: how a computer reads a digit", anchor="learn")
    data, _ = load_data()
    digit, where = _example(data)

    st.subheader("What is image classification?")
    st.markdown(
        "A classifier takes an image and answers with one of a fixed set of **classes**, here the ten digits 0-9. "
        "It does not follow rules someone wrote (\"a 1 is a vertical line\"): it is a function with many "
        "adjustable numbers, **parameters**, tuned on labelled examples until its answers match the labels. "
        "MNIST gives 60,000 such examples to learn from and 10,000 more, never seen in training, to test on. "
        "The answer comes as ten **probabilities**; the largest is the prediction, and its size is how sure the "
        "model is.")

    st.subheader("A greyscale image is an array of numbers")
    left, right = st.columns([1, 2])
    with left:
        st.image(figs.montage(digit[None], 1, scale=6), caption=where)
        st.markdown(
            "A computer stores this picture as a grid of 28 × 28 = 784 numbers, one per pixel: its brightness "
            "from 0 (black) to 255 (white), one byte each. In NumPy that is an array of shape `(28, 28)` and "
            "type `uint8`. The networks see each number divided by 255, so between 0 and 1; the MLP even "
            "flattens the grid into one row of 784 numbers.")
    right.plotly_chart(figs.pixel_values(digit, "The same image as numbers"), config=figs.CONFIG,
                       key="learn_pixels")

    st.markdown("**A colour (RGB) image is three such arrays**: how much red, green and blue light each pixel "
                "gives, shape `(28, 28, 3)`. Here the digit coloured amber on blue, and its three arrays "
                "(the middle 12 × 12 pixels, to keep the numbers readable):")
    rgb = _coloured(digit)
    left, right = st.columns([1, 3])
    left.image(rgb.repeat(6, axis=0).repeat(6, axis=1), caption="the colour image")
    right.plotly_chart(figs.rgb_channels(rgb[8:20, 8:20]), config=figs.CONFIG, key="learn_rgb")

    st.subheader("How MNIST was made")
    st.markdown(
        "MNIST (LeCun, Cortes and Burges) was built from NIST's scans of digits written by Census Bureau "
        "employees and high-school students, black and white. Each digit was **scaled to fit a 20 × 20 box, "
        "keeping its aspect ratio**; the scaling is anti-aliased, which is where the grey levels come from. "
        "It was then placed in a 28 × 28 field so that its **centre of mass** sits at the centre. The app does "
        "the same to every drawing (`mnist_core.imaging.preprocess`), step by step:")
    steps = preprocess(_nist_like(digit), background=1.0)  # white paper, known
    st.plotly_chart(preprocessing_strip(steps, first_title="1 · a large black-and-white scan"), config=figs.CONFIG,
                    key="learn_steps")
    st.caption("The same digit drawn large, off-centre and black and white (as a NIST scan), then: the ink's "
               "bounding box (blue), the crop, the 20 × 20 fit with its grey edges, and the 28 × 28 field with the "
               f"centre of mass (red ×) on the centre lines: row {steps.centre_of_mass[0]:.2f}, column "
               f"{steps.centre_of_mass[1]:.2f}.")

    st.subheader("The two networks, layer by layer")
    st.markdown(
        "**The MLP** (multi-layer perceptron) flattens the image into 784 numbers; every unit of a dense layer "
        "multiplies all of its inputs by its own weights, adds them up and keeps the result if positive (ReLU). "
        "It knows nothing of which pixels are neighbours. **LeNet-5** (LeCun et al., 1998) slides small filters "
        "over the image, so the same stroke detector works everywhere, and shrinks the maps step by step.")
    # one table under the other, each the page's width: side by side, LeNet-5's five columns did
    # not fit half the page and its multiply-adds were cut off
    for name in ("mlp", "lenet5"):
        rows = _architecture(name)
        table = pd.DataFrame(rows).rename(columns={"layer": "layer", "kind": "type", "output_shape": "output shape",
                                                   "parameters": "parameters", "multiply_adds": "multiply-adds"})
        st.markdown(f"**{figs.MODEL_LABELS[name]}**: {sum(r['parameters'] for r in rows):,} parameters, "
                    f"{sum(r['multiply_adds'] for r in rows):,} multiply-adds per image")
        st.dataframe(table, hide_index=True, width="stretch", height=35 * (len(rows) + 1) + 3,
                     column_config={"parameters": st.column_config.NumberColumn(format="localized"),
                                    "multiply-adds": st.column_config.NumberColumn(format="localized")})
    st.caption("Computed from the trained models themselves (`mnist_core.networks.models.layer_table`, kept in each model's "
               "card); multiply-adds count the "
               "convolutions and dense layers, per image. C3's parameters count only its connected weights.")

    st.markdown("**LeNet-5's layers**, in the paper's notation (C = convolution, S = subsampling, F = fully "
                "connected; 6@28×28 means 6 maps of 28 × 28):")
    params = {row["layer"]: row["parameters"] for row in _architecture("lenet5")}  # the numbers in the text
    for name, text in LENET_LAYERS:
        st.markdown(f"- **{name}**: {text.format(**params)}")
    left, right = st.columns([2, 1])
    left.plotly_chart(connection_table(connection_matrix()), config=figs.CONFIG, key="learn_c3_table")
    right.caption(f"C3's connection table: a lit cell means the C3 map (column) reads that S2 map (row). Maps 0-5 "
                  f"read 3 neighbouring maps, 6-11 four neighbouring, 12-14 four not all neighbouring, 15 all six: "
                  f"{int(connection_matrix().sum())} of {6 * len(C3_TABLE)} possible connections.")


def _coloured(digit: np.ndarray) -> np.ndarray:
    """(28, 28) uint8 -> (28, 28, 3) uint8: amber ink on a dark blue background."""
    ink = digit.astype(np.float32)[..., None] / 255
    background, colour = np.array([20, 40, 110], np.float32), np.array([250, 180, 40], np.float32)
    return np.round(background * (1 - ink) + colour * ink).astype(np.uint8)


def _nist_like(digit: np.ndarray) -> np.ndarray:
    """A NIST-style scan of a (28, 28) uint8 digit: scaled 5× (bilinear), thresholded to black ink
    on white paper and placed off-centre in a 200 × 200 field. Returns (200, 200) uint8."""
    from PIL import Image

    big = np.asarray(Image.fromarray(digit).resize((140, 140), Image.BILINEAR)) > 100
    page = np.full((200, 200), 255, np.uint8)
    page[10:150, 50:190][big] = 0
    return page
