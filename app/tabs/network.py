"""The Network tab: the current digit going through the chosen network, layer by layer.

It reads the digit the Draw tab recorded (`session.current_digit()`); before anything is drawn it
shows an example "7" so the tab is never blank. Every number comes from `mnist_core`:
`Classifier.activations` (LiteRT), `.kernels`, `explain.smoothgrad` and
`architecture.connection_matrix`; the kernels and gradients need the Keras model, which the tab's
first visit loads (`resources.with_keras`, with a spinner).
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from app import figures
from app.resources import example_drawing, load_classifier, with_keras
from app.session import Digit, current_digit, read
from app.tabs.presenter import why_not
from mnist_core.networks.architecture import connection_matrix
from mnist_core.reading.classifier import Classifier, Result
from mnist_core.reading.explain import SMOOTHGRAD_COPIES, smoothgrad

TOP_UNITS = 8  # how many of the MLP's most active first-layer units to show as templates


def _chart(figure, key: str, caption: str) -> None:
    """A figure with its one-sentence explanation under it."""
    st.plotly_chart(figure, config=figures.CONFIG, key=key)
    st.caption(caption)


def _outcome(result: Result, name: str) -> None:
    """One line: the answer as the Draw tab gives it, "confident" only when the model's doubt rule
    (`Result.unsure`) lets it answer without a question."""
    model = figures.MODEL_LABELS[name]
    if result.unsure:
        runner_up = result.probabilities[result.runner_up]
        st.markdown(f"**{model}** is unsure: a **{result.label}** ({result.confidence:.0%}) or a "
                    f"**{result.runner_up}** ({runner_up:.0%}). The figures below follow the {result.label}.")
    else:
        st.markdown(f"**{model}** reads a **{result.label}** ({result.confidence:.0%} confident).")


def _lenet5(classifier: Classifier, result: Result, per_map: bool) -> None:
    """LeNet-5: C1 -> S2 -> C3 -> S4 -> C5 -> F6 -> output, each with its figure and a sentence."""
    acts = classifier.activations(result.input28)
    scale = "each map stretched to its own maximum" if per_map else "one colour scale for the whole layer"
    k = "lenet5"

    st.markdown("##### C1 · 6 feature maps, 28×28")
    left, right = st.columns([1, 4], gap="medium")
    with left:
        _chart(figures.kernel_tiles(classifier.kernels("C1")[:, :, 0, :], "C1"), f"{k}-c1-kernels",
               "The 6 learned 5×5 kernels of C1 (one per map): each slides over the input and responds most where "
               "the ink matches its red parts and avoids its blue ones.")
    with right:
        _chart(figures.feature_maps(acts["C1"], "C1", per_map, columns=6, tile_px=120), f"{k}-c1",
               f"C1's output: each kernel's response at every position of the digit ({scale}); bright = strong "
               "match, such as an edge of one orientation.")

    st.markdown("##### S2 · 6 maps, 14×14")
    _chart(figures.feature_maps(acts["S2"], "S2", per_map, columns=6, tile_px=90), f"{k}-s2",
           "S2 keeps the strongest response in each 2×2 block of C1 (max pooling): half the size, and a small "
           "shift of the digit changes it less.")

    st.markdown("##### C3 · 16 feature maps, 10×10")
    _chart(figures.feature_maps(acts["C3"], "C3", per_map, columns=8, tile_px=80), f"{k}-c3",
           f"C3's output ({scale}): each map combines several S2 maps, so it responds to larger parts of a "
           "digit, such as a corner or a loop.")
    left, right = st.columns([1, 2], gap="medium")
    with left:
        _chart(figures.connection_table(connection_matrix()), f"{k}-c3-table",
               "LeNet-5's connection table (LeCun et al., 1998): a filled square means that C3 map (column) "
               "sees that S2 map (row).")
    with right:
        _chart(figures.kernel_grid(classifier.kernels("C3"), "C3", connected=connection_matrix(), tile_px=30,
                                   inputs="S2"),
               f"{k}-c3-kernels",
               "C3's learned 5×5 kernels, one per connection: column = C3 map, row = the S2 map it reads; "
               "blank where the table leaves them unconnected.")

    st.markdown("##### S4 · 16 maps, 5×5")
    _chart(figures.feature_maps(acts["S4"], "S4", per_map, columns=16, tile_px=60), f"{k}-s4",
           "S4 pools C3 down to 5×5: a coarse map of where each of the 16 parts was found.")

    st.markdown("##### C5 · 120 units, and F6 · 84 units")
    left, right = st.columns(2, gap="medium")
    with left:
        _chart(figures.unit_bars(acts["C5"], "C5"), f"{k}-c5",
               "C5: 120 units, each looking at all 16 S4 maps at once; the bar is how strongly it fires.")
    with right:
        _chart(figures.unit_bars(acts["F6"], "F6"), f"{k}-f6",
               "F6: 84 units combining C5's; the output layer reads the digit from this pattern.")


def _mlp(classifier: Classifier, result: Result) -> None:
    """The MLP: hidden1 (with its most active units' weight templates) -> hidden2 -> output."""
    acts = classifier.activations(result.input28)
    hidden1 = acts["hidden1"]
    k = "mlp"
    st.markdown("##### Hidden layer 1 · 512 units")
    _chart(figures.unit_bars(hidden1, "hidden1"), f"{k}-h1",
           f"The first hidden layer: 512 units, each a weighted sum of all 784 pixels; "
           f"{int((hidden1 > 0).sum())} of them fire for this digit (ReLU keeps only positive sums).")
    units = np.argsort(hidden1)[::-1][:TOP_UNITS]
    _chart(figures.templates(classifier.kernels("hidden1"), units, hidden1), f"{k}-templates",
           f"The {TOP_UNITS} most active units' weights drawn as 28×28 pictures (label: unit · activation): red "
           "pixels raise the unit when inked, blue lower it; each is a template the unit matches.")
    st.markdown("##### Hidden layer 2 · 128 units")
    _chart(figures.unit_bars(acts["hidden2"], "hidden2"), f"{k}-h2",
           "The second hidden layer: 128 units combining the first layer's; the output reads the digit from "
           "this pattern.")


def _model(name: str, digit: Digit, per_map: bool) -> None:
    classifier, error = load_classifier(name)
    if classifier is None:
        st.error(error)
        return
    result, _ = read(name, digit)
    if result.label is None:
        st.warning(result.reason)
        return
    _outcome(result, name)
    error = with_keras(name)  # the kernels and the gradients: TensorFlow, loaded on the tab's first visit
    if error:
        st.error(error)
        return
    if name == "lenet5":
        _lenet5(classifier, result, per_map)
    else:
        _mlp(classifier, result)
    st.markdown("##### Output · softmax over the 10 digits")
    left, right = st.columns(2, gap="medium")
    with left:
        _chart(figures.probability_bars(result.probabilities), f"{name}-output",
               "The output layer turns the last layer's pattern into one probability per digit (they sum to 1).")
    with right:
        saliency = smoothgrad(classifier, result.input28, result.label)
        _chart(figures.saliency_map(saliency, result.input28), f"{name}-saliency",
               f"Saliency: how much each input pixel pushes the score of '{result.label}' (red: more ink there "
               "would raise it, blue: would lower it), averaged over "
               f"{SMOOTHGRAD_COPIES} copies of the input with a little noise added (SmoothGrad: one gradient "
               "alone jumps from pixel to pixel); the white line is the digit's outline.")
    st.markdown("##### Why this and not that")
    why_not(classifier, result, f"{name}-other")


def render(models: list[str], *args) -> None:
    """models: names from mnist_core.MODEL_NAMES chosen in the sidebar ("mlp", "lenet5")."""
    digit = current_digit()
    if digit is None:
        digit = Digit(example_drawing(), "example", "an example 7", "example:7")
        st.info("Nothing drawn yet, so here is an example 7. Draw your own digit on the Draw tab and come back.",
                icon=":material/draw:")
    else:
        st.caption(f"Showing {digit.name}, as read on the Draw tab.")
    per_map = "lenet5" in models and st.toggle(
        "Colour scale per map", key="per_map_scale",
        help="LeNet-5's feature maps. Off: one colour scale per layer, so maps can be compared. "
             "On: each map uses its own range, so weak maps show their shape too.")
    if len(models) == 1:
        _model(models[0], digit, per_map)
        return
    for name, tab in zip(models, st.tabs([figures.MODEL_LABELS[name] for name in models])):
        with tab:
            _model(name, digit, per_map)
