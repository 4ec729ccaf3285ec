"""The Data tab: where MNIST came from, its statistics, its images as numbers, a 2-D map of it,
and augmentation with robustness curves. Four sections; only the open one runs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from app import data_figures as figs
from app.data_cache import (
    SPLITS,
    available_models,
    current_drawing,
    curves,
    data_stats,
    load_data,
    model_sha,
    nearest_training,
    pca_map,
    place_on_tsne,
    retry_data,
    tsne_map,
)
from mnist_core.datasets import embedding, stats
from mnist_core.evaluation import robustness
from mnist_core.imaging import augment
from mnist_core.pen import styles

SECTIONS = ["Overview", "Samples & pixels", "2-D map", "Augmentation"]
KINDS = {"local": "local files", "keras-cache": "the Keras cache", "download": "a download"}
ROBUSTNESS_SAMPLE = 50  # test digits of the chosen class that the curves average over


def show_no_data(error: str, key: str) -> None:
    """The no-data message shared by the Data, Evaluation and Learn tabs, with a retry button."""
    st.error(f"**No MNIST data is available**, so this part of the app is empty; the Draw and Network tabs "
             f"still work.\n\n{error}", icon=":material/folder_off:")
    st.button("Try again", key=key, on_click=retry_data,
              help="Look for the data again (e.g. after setting MNIST_DATA).")


def render(models: list[str], *args) -> None:
    """models: names from mnist_core.MODEL_NAMES chosen in the sidebar ("mlp", "lenet5")."""
    st.header("The MNIST data", anchor="data")
    data, error = load_data()
    if data is None:
        show_no_data(error, "data_retry")
        return
    _source(data)
    tabs = st.tabs(SECTIONS, key="data_section", on_change="rerun")
    for tab, section in zip(tabs, (_overview, _samples, _map, _augmentation)):
        if tab.open is not False:  # None: no state tracking (render all)
            with tab:
                section(data, models)


def _source(data) -> None:
    cols = st.columns(4)
    cols[0].metric("Training images", f"{len(data.y_train):,}")
    cols[1].metric("Test images", f"{len(data.y_test):,}")
    cols[2].metric("Image size", "28 × 28", help="Greyscale, one byte per pixel: 0 = background, 255 = full ink.")
    cols[3].metric("Read from", KINDS.get(data.kind, data.kind))
    st.caption(f"Source: {data.source} · sha256 `{data.sha256[:16]}…` (of the four arrays; the same whichever "
               "source the same data comes from)")


# --- Overview ------------------------------------------------------------------------------------


def _overview(data, models) -> None:
    st.subheader("Class distribution")
    train = stats.class_counts(data.y_train)
    st.plotly_chart(figs.class_counts(train, stats.class_counts(data.y_test)), config=figs.CONFIG, key="data_counts")
    st.caption(f"Nearly balanced: {train.argmax()} is the most common digit ({train.max():,} training images), "
               f"{train.argmin()} the rarest ({train.min():,}).")

    split = st.radio("Statistics of", list(SPLITS), format_func=SPLITS.get, horizontal=True, key="data_split")
    s = data_stats(data.sha256, split)
    cols = st.columns(3)
    cols[0].metric("Pixel mean (pixel/255)", f"{s.pixel_mean:.4f}")
    cols[1].metric("Pixel standard deviation", f"{s.pixel_std:.4f}")
    cols[2].metric("Background pixels (value 0)", f"{s.histogram[0] / s.histogram.sum():.1%}")
    st.caption("The mean and standard deviation are what models normalise their input with: "
               "(pixel/255 − mean) / std.")

    st.subheader("Mean and standard deviation image of each digit")
    st.plotly_chart(figs.digit_images(s.mean_images, "Mean image (pixel/255): where each digit's ink usually is",
                                      zmax=1.0), config=figs.CONFIG, key="data_mean_images")
    st.plotly_chart(figs.digit_images(s.std_images, "Standard deviation: where writers differ most",
                                      colorscale="Viridis", zmax=0.5), config=figs.CONFIG, key="data_std_images")

    st.subheader("Pixel intensities")
    st.plotly_chart(figs.intensity_histogram(s.histogram), config=figs.CONFIG, key="data_histogram")
    full = s.histogram[250:].sum() / s.histogram.sum()
    st.caption(f"Log scale. Most pixels are background (0); the strokes are mostly at full ink (250–255: {full:.1%} "
               "of all pixels), and the grey values between are the anti-aliased edges from scaling each digit "
               "into its 20×20 box.")

    st.subheader("Ink statistics per digit")
    name = st.selectbox("Statistic", list(stats.INK_COLUMNS), format_func=stats.INK_COLUMNS.get, key="data_ink_stat")
    left, right = st.columns([3, 2])
    left.plotly_chart(figs.ink_boxes(s.ink_summary[name], stats.INK_COLUMNS[name]), config=figs.CONFIG,
                      key="data_ink_box")
    short = {"ink_pixels": "ink px", "height": "height", "width": "width", "slant": "slant °"}
    table = pd.DataFrame({short[k]: s.ink_summary[k]["mean"] for k in stats.INK_COLUMNS})
    table.index.name = "digit"
    right.dataframe(table.style.format("{:.1f}"), width="stretch", height=35 * 11 + 3)
    right.caption("Means per digit. Ink pixels are those at least half dark (≥ 128); the bounding box is that of "
                  "every nonzero pixel (MNIST fits digits in 20×20, so its longer side is about 20); slant is "
                  "atan(−μ₁₁/μ₀₂) from the image's second-order moments, positive when the top leans right.")


# --- Samples & pixels ----------------------------------------------------------------------------


def _reshuffle() -> None:
    st.session_state["data_sample_seed"] = st.session_state.get("data_sample_seed", 0) + 1


def _samples(data, models) -> None:
    st.subheader("Samples of each digit")
    seed = st.session_state.get("data_sample_seed", 0)
    st.button("Reshuffle", icon=":material/shuffle:", key="data_reshuffle", on_click=_reshuffle)
    columns = 14
    chosen = np.concatenate([stats.sample_indices(data.y_train, d, columns, seed) for d in range(10)])
    st.image(figs.montage(data.x_train[chosen], columns, scale=2), caption="One row per digit, 0 at the top: "
             f"{columns} training images each, drawn at random (draw {seed}).")

    st.subheader("A greyscale image is an array of numbers")
    drawing = current_drawing()
    left, right = st.columns([1, 3])
    with left:
        options = ["An MNIST training image"] + (["My drawing"] if drawing is not None else [])
        source = st.radio("Show", options, key="data_pixels_source")
        if source == "My drawing":
            image, title = np.round(drawing * 255).astype(np.uint8), "Your drawing as the model sees it"
        else:
            digit = st.selectbox("Digit", range(10), index=7, key="data_pixels_digit")
            which = st.number_input("Example", 0, 99, 0, key="data_pixels_which",
                                    help="The n-th training image of this digit.")
            index = int(np.flatnonzero(data.y_train == digit)[which])
            image, title = data.x_train[index], f"Training image #{index} (a {digit})"
        st.image(figs.montage(image[None], 1, scale=5), caption="The picture…")
        st.caption("…is 784 numbers: one byte per pixel, 0 = background (black here), 255 = full ink (white). "
                   "The models see each divided by 255.")
    right.plotly_chart(figs.pixel_values(image, title), config=figs.CONFIG, key="data_pixel_values")


# --- 2-D map ---------------------------------------------------------------------------------------


def _map(data, models) -> None:
    st.subheader("A 2-D map of the data set")
    method = st.radio("Map", ["PCA", "t-SNE"], horizontal=True, key="data_map_method",
                      captions=["all 70,000 images on their two main axes",
                                f"{embedding.TSNE_SAMPLE:,} training images, neighbours kept together"])
    drawing = current_drawing()
    left, right = st.columns([3, 1])
    if method == "PCA":
        event = _pca(data, drawing, left)
    else:
        event = _tsne(data, drawing, left)
    with right:
        _selected_images(data, event)
        _drawing_neighbours(data, drawing)


def _pca(data, drawing, where):
    pca = pca_map(data.sha256)
    shown = where.select_slider("Points shown", [5_000, 10_000, 20_000, 70_000], value=10_000, key="data_pca_points",
                                help="The PCA is fitted on all 60,000 training images; every image has a place. "
                                     "Showing fewer keeps the page quick.")
    index = np.sort(np.random.default_rng(0).permutation(len(pca.labels))[:shown])
    position = pca.transform(drawing[None])[0] if drawing is not None else None
    explained = pca.explained[:2]
    fig = figs.scatter_map(pca.coords[index], pca.labels[index], index, "PCA: every image projected on the two "
                           "directions of largest variance", drawing=position,
                           axis_titles=(f"PC 1 ({explained[0]:.1%} of the variance)",
                                        f"PC 2 ({explained[1]:.1%})"))
    with where:
        event = st.plotly_chart(fig, config=figs.CONFIG, key="data_pca_chart", on_select="rerun",
                                selection_mode=("points", "box", "lasso"))
        st.caption("Click a point, or drag a lasso or box around some, to see those images. "
                   + ("The big star (pointed at) is your drawing, projected with the same PCA." if position is not None else
                      "Draw a digit in the Draw tab to see where it falls."))
    return event


def _tsne(data, drawing, where):
    n = embedding.TSNE_SAMPLE
    with where:
        if not embedding.tsne_cached(data, n) and not st.session_state.get("data_tsne_ready"):
            st.info(f"The t-SNE map of {n:,} training images takes one to three minutes to compute on two "
                    "cores, once per data set; the server then keeps it for every later visit.")
            if not st.button("Compute the t-SNE map", key="data_tsne_compute", type="primary"):
                return None
        tsne = tsne_map(data.sha256, n)
        st.session_state["data_tsne_ready"] = True
        position = neighbours = None
        if drawing is not None:
            position, found = place_on_tsne(data.sha256, n, drawing)
            neighbours = tsne.coords[np.searchsorted(tsne.indices, found)]
        fig = figs.scatter_map(tsne.coords, tsne.labels, tsne.indices, f"t-SNE of {n:,} training images",
                               drawing=position, neighbours=neighbours)
        event = st.plotly_chart(fig, config=figs.CONFIG, key="data_tsne_chart", on_select="rerun",
                                selection_mode=("points", "box", "lasso"))
        st.caption("t-SNE keeps images that look alike close together; distances between far-apart clusters "
                   "mean little. Click or lasso points to see them. "
                   + (f"t-SNE cannot map a new image, so the star (your drawing) is placed at the mean position "
                      f"of its {embedding.TSNE_NEIGHBOURS} nearest sample images by pixel distance (ringed)."
                      if drawing is not None else "Draw a digit in the Draw tab to see where it falls."))
    return event


def _selected_images(data, event) -> None:
    """The images of the points clicked or lassoed on a map (customdata = image index, training
    images first, then test images at 60,000 + i)."""
    points = (event.selection.points if event is not None and event.selection else []) or []
    index = [int(p["customdata"]) for p in points if isinstance(p.get("customdata"), (int, float))]
    if not index:
        return
    train = len(data.y_train)
    shown = [index[k] for k in np.linspace(0, len(index) - 1, min(40, len(index))).astype(int)]  # every digit
    images = np.stack([data.x_train[i] if i < train else data.x_test[i - train] for i in shown])
    labels = np.array([data.y_train[i] if i < train else data.y_test[i - train] for i in index])
    if len(index) == 1:
        i = index[0]
        where = f"training image #{i}" if i < train else f"test image #{i - train}"
        st.markdown("**The chosen image**")
        st.image(figs.montage(images, 1, scale=6), caption=f"{where}, labelled {labels[0]}")
    else:
        st.markdown(f"**{len(index):,} images selected**" + (" (40 of them)" if len(index) > 40 else ""))
        st.image(figs.montage(images, 5, scale=2), width="stretch")
        digits, counts = np.unique(labels, return_counts=True)
        st.caption("By digit: " + ", ".join(f"{d} ×{c:,}" for d, c in zip(digits, counts)))
    st.divider()


def _drawing_neighbours(data, drawing) -> None:
    if drawing is None:
        return
    st.markdown("**Your drawing and its nearest training images**")
    found, dist = nearest_training(data.sha256, drawing, k=8)
    st.image(figs.montage(drawing[None], 1, scale=3), caption="your drawing", width=84)
    st.image([figs.montage(data.x_train[i][None], 1, scale=3) for i in found],
             caption=[f"{data.y_train[i]} · {d:.1f}" for i, d in zip(found, dist)], width=84)
    st.caption("Nearest by pixel distance among all 60,000 training images (caption: digit · distance).")


# --- Augmentation ----------------------------------------------------------------------------------


def _new_samples() -> None:
    st.session_state["data_aug_seed"] = st.session_state.get("data_aug_seed", 0) + 1


def _augmentation(data, models) -> None:
    st.subheader("Augmentation: more training digits from the ones we have")
    drawing = current_drawing()
    controls, shown = st.columns([1, 2])
    with controls:
        options = ["An MNIST test digit"] + (["My drawing"] if drawing is not None else [])
        source = st.radio("Start from", options, key="data_aug_source",
                          help=None if drawing is not None else "Draw a digit in the Draw tab to use it here.")
        if source == "My drawing":
            image, label = drawing, _drawn_label(drawing)
        else:
            label = st.selectbox("Digit", range(10), index=3, key="data_aug_digit")
            which = st.number_input("Example", 0, 99, 0, key="data_aug_which",
                                    help="The n-th test image of this digit.")
            image = data.x_test[int(np.flatnonzero(data.y_test == label)[which])].astype(np.float32) / 255
        rotation = st.slider("Rotation (± degrees)", 0, 45, 15, key="data_aug_rotation")
        zoom = st.slider("Zoom (± fraction)", 0.0, 0.5, 0.1, 0.05, key="data_aug_zoom")
        shift = st.slider("Shift (± pixels)", 0.0, 6.0, 2.0, 0.5, key="data_aug_shift")
        shear = st.slider("Shear (± degrees)", 0, 30, 10, key="data_aug_shear")
        alpha = st.slider("Elastic distortion: strength α", 0, 60, 20, key="data_aug_alpha",
                          help="Simard et al. (2003): random displacement fields smoothed by a Gaussian of σ "
                               "pixels, times α. 0 = off.")
        sigma = st.slider("Elastic distortion: smoothness σ", 2.0, 8.0, 4.0, 0.5, key="data_aug_sigma")
        steps = st.select_slider("Stroke thickness", [-2, -1, 0, 1, 2], value=0, key="data_aug_thickness",
                                 format_func=lambda v: {0: "as drawn", -1: "thinner", -2: "much thinner",
                                                        1: "thicker", 2: "much thicker"}[v])
        sigma_noise = st.slider("Noise (std)", 0.0, 0.5, 0.0, 0.05, key="data_aug_noise")
    with shown:
        seed = st.session_state.get("data_aug_seed", 0)
        rng = np.random.default_rng(seed)
        batch = augment.distort(np.repeat(image[None], 24, axis=0), rng, rotation, zoom, shift, shear, alpha, sigma)
        batch = augment.noise(augment.thickness(batch, steps), rng, sigma_noise)
        st.markdown("**24 random augmentations** (top left: the original)")
        st.image(figs.montage(np.concatenate([image[None], batch[:-1]]), 8, scale=3), width="stretch")
        st.button("New samples", icon=":material/casino:", key="data_aug_new", on_click=_new_samples)
        st.markdown("**shift8**: the seed tutorial's expansion, the original and its one-pixel shifts in eight "
                    "directions (9× the data)")
        nine, _ = augment.shift8(image[None], np.zeros(1))
        order = [1, 2, 3, 4, 0, 5, 6, 7, 8]  # the shifts around the original, as on a keypad
        st.image(figs.montage(nine[order], 3, scale=3), width=280)
        _drawn_variants(image, label, seed)
        st.info("**Why are there no flips?** A mirrored 2 is no digit, and a flipped 6 reads as a 9; rotation is "
                "kept small for the same reason. Flipping would teach the models wrong labels, so "
                "`mnist_core.imaging.augment` has none.", icon=":material/flip:")
    _robustness(data, image, label, source)


def _drawn_variants(image: np.ndarray, label: int, seed: int) -> None:
    """The training's other renderings of a digit: its centre line redrawn with a round brush of
    several widths, and in each writing style MNIST lacks for this digit (`mnist_core.pen.styles`)."""
    widths = np.array([0.06, 0.12, 0.2, 0.3])
    names = [name for name, (digit, _) in styles.STYLES.items() if digit == label]
    rows = np.repeat(image[None], len(widths) * (1 + len(names)), axis=0)
    chosen = np.repeat([""] + names, len(widths))
    drawn = styles.draw_styles(rows, np.tile(widths, 1 + len(names)), chosen, np.random.default_rng(seed))
    titles = ["redrawn with a round brush"] + names
    st.markdown("**Redrawn as people draw** — the centre line traced with a brush of 6 % to 30 % of the digit's "
                "height" + (f", then in the styles MNIST lacks: {', '.join(titles[1:])}" if names else "") +
                ". Training takes a third of its digits from these, so the models read canvas drawings too.")
    st.image(figs.montage(drawn, len(widths), scale=3), width=4 * 28 * 3,
             caption=" · ".join(f"row {i + 1}: {t}" for i, t in enumerate(titles)))


def _drawn_label(drawing: np.ndarray) -> int:
    """Ask which digit the drawing is; the default is the first available model's answer."""
    loaded = available_models()
    guess = int(next(iter(loaded.values())).classify_batch(drawing[None])[0].argmax()) if loaded else 0
    return st.selectbox("Which digit did you draw?", range(10), index=guess, key="data_aug_drawn_label",
                        help="The right answer for the robustness curves.")


def _robustness(data, image, label, source) -> None:
    st.subheader("Robustness: what each model makes of transformed digits")
    loaded = available_models()
    if not loaded:
        st.warning("No trained model could be loaded, so there are no curves: see the Draw tab for how to get them.")
        return
    over = st.radio("Average over", [f"{ROBUSTNESS_SAMPLE} test digits of this class", "this image only"],
                    horizontal=True, key="data_rob_over")
    if over == "this image only":
        images, what = image[None], "this image" if source != "My drawing" else "your drawing"
    else:
        chosen = stats.sample_indices(data.y_test, label, ROBUSTNESS_SAMPLE, seed=0)
        images, what = data.x_test[chosen].astype(np.float32) / 255, f"{len(chosen)} test {label}s (a fixed sample)"
    titles = {k: t for k, (_, t) in robustness.TRANSFORMS.items()}
    by_model = {name: curves(name, model_sha(name), images, np.full(len(images), label)) for name in loaded}
    st.plotly_chart(figs.robustness(by_model, titles), config=figs.CONFIG, key="data_robustness")
    st.caption(f"Mean probability the model gives to the right digit ({label}) over {what}, as one transformation "
               "grows. The transformed images go to the models as they are, not re-centred or re-sized, so the "
               "curves show what each network tolerates by itself. Convolution and pooling give LeNet-5 some "
               "tolerance of position by construction; the MLP, whose every weight is tied to one pixel, has only "
               "what its training augmentation (small shifts, rotations, zooms) taught it.")
