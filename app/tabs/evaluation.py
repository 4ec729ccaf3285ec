"""The Evaluation tab: each model on the 10,000 test images (accuracy, per-digit accuracy, the
confusion matrix with the images behind each cell, the most confident mistakes) and the two
models compared (a table from the model cards and what is measured here, and the images where
they disagree)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from app import data_figures as figs
from app.data_cache import available_models, latency, load_data, model_sha, test_metrics, test_probabilities
from app.resources import load_classifier
from app.tabs import collected
from app.tabs.data import show_no_data
from mnist_core import MODEL_NAMES
from mnist_core.evaluation import comparison

LABELS = figs.MODEL_LABELS
MAX_IMAGES = 48  # images shown for one confusion cell or list


def render(models: list[str], *args) -> None:
    """models: names from mnist_core.MODEL_NAMES chosen in the sidebar ("mlp", "lenet5")."""
    st.header("Evaluation on the test set", anchor="evaluation")
    loaded = available_models()
    if not loaded:
        errors = [load_classifier(name)[1] for name in MODEL_NAMES]
        st.warning("No trained model could be loaded:\n\n" + "\n\n".join(f"- {e}" for e in errors if e))
        return
    data, error = load_data()
    names = [m for m in models if m in loaded] or list(loaded)
    sections = [LABELS[n] for n in names] + ["Comparison"]
    tabs = st.tabs(sections, key="eval_section", on_change="rerun")
    for tab, name in zip(tabs, names + [None]):
        if tab.open is False:
            continue
        with tab:
            if name is None:
                _comparison(loaded, data, error)
            elif data is None:
                _card_only(loaded[name])
                show_no_data(error, f"eval_retry_{name}")
            else:
                _model(name, data)
    collected.evaluation_section()  # only when a collection has drawings


def _images(data, index: np.ndarray, captions: list[str], width: int = 70) -> None:
    st.image([figs.montage(data.x_test[i][None], 1, scale=3) for i in index], caption=captions, width=width)


def _card_only(classifier) -> None:
    test = classifier.card.get("test", {})
    st.metric("Test accuracy (from the model card)", f"{test.get('accuracy', float('nan')):.2%}")


def _model(name: str, data) -> None:
    label = LABELS[name]
    sha = model_sha(name)
    probs = test_probabilities(name, sha, data.sha256)
    result = test_metrics(name, sha, data.sha256)
    predicted = probs.argmax(axis=1)
    errors = int((predicted != data.y_test).sum())

    cols = st.columns(3)
    cols[0].metric("Test accuracy", f"{result['accuracy']:.2%}", help="Measured here with classify_batch.")
    cols[1].metric("Mistakes", f"{errors:,} of {len(predicted):,}")
    cols[2].metric("Mean cross-entropy", f"{result['loss']:.4f}")
    if result["matches_card"]:
        st.caption(f":material/check_circle: Matches the model card ({result['card_accuracy']:.2%}, measured when "
                   "it was trained).")
    elif result["matches_card"] is False:
        st.warning(f"The model card says {result['card_accuracy']:.2%}, measured here {result['accuracy']:.2%}: "
                   "the card was written for other weights or another copy of the data.")

    st.subheader(f"{label}: accuracy per digit")
    st.plotly_chart(figs.per_digit_accuracy({name: result["per_class_accuracy"]},
                                            f"{label} on the 10,000 test images, per digit"), config=figs.CONFIG,
                    key=f"eval_per_digit_{name}")

    st.subheader(f"{label}: confusion matrix")
    st.caption("Rows: the true digit; columns: the model's answer. The diagonal counts the right answers; "
               "colour is on a log scale so that a handful of mistakes shows.")
    confusion = np.array(result["confusion"])
    key = f"eval_confusion_{name}"
    chosen = _chosen_cell(key, confusion)
    left, right = st.columns([3, 2])
    with left:
        st.plotly_chart(figs.confusion(confusion, selected=chosen),
                        config=figs.CONFIG, key=key, on_select="rerun", selection_mode="points")
    with right:
        true, guess = chosen
        index = comparison.cell_indices(predicted, data.y_test, true, guess)
        st.markdown(f"**True {true}, predicted {guess}: {len(index):,} image{'s' * (len(index) != 1)}**"
                    + (f" (first {MAX_IMAGES})" if len(index) > MAX_IMAGES else ""))
        st.caption("Click a cell of the matrix to see its images; the caption gives each image's test-set "
                   "index and the probability the model gave to the predicted digit.")
        if len(index):
            index = index[:MAX_IMAGES]
            _images(data, index, [f"#{i} · {probs[i, guess]:.0%}" for i in index], width=60)

    st.subheader(f"{label}: the most confident mistakes")
    worst = comparison.confident_mistakes(probs, data.y_test, k=24)
    _images(data, worst, [f"{data.y_test[i]} → {predicted[i]} · {probs[i, predicted[i]]:.0%}" for i in worst],
            width=84)
    st.caption("Test images the model got wrong while most sure of itself: caption = true → predicted · "
               "its probability. Some are mislabelled or ambiguous even to people.")


def _chosen_cell(key: str, confusion: np.ndarray) -> tuple[int, int]:
    """The cell the user clicked (from the chart's selection state), else the largest mistake."""
    state = st.session_state.get(key)
    points = state.selection.points if state is not None and state.selection else []
    if points and "x" in points[0] and "y" in points[0]:
        return int(points[0]["y"]), int(points[0]["x"])  # rows: true digit, columns: predicted
    off = confusion.copy()
    np.fill_diagonal(off, -1)
    true, guess = np.unravel_index(int(off.argmax()), off.shape)
    return int(true), int(guess)


def _drawn_report(cards: dict) -> None:
    """Per-digit accuracy on each drawn set, the worst writer, and the reliability diagram, from the cards."""
    st.subheader("Drawn digits: how the models read what people draw")
    report = comparison.drawn_report(cards)
    shown = st.radio("Set", list(report), horizontal=True, key="eval_drawn_set", index=len(report) - 1)
    per_class = {name: acc for name, acc in report[shown].items() if acc}
    if not per_class:
        st.info("The model cards hold no figures for this set (the models predate it).")
        return
    st.plotly_chart(figs.per_digit_accuracy(per_class, f"Accuracy per digit: {shown}"), config=figs.CONFIG,
                    key="eval_drawn_per_digit")
    real = {name: card["real"] for name, card in cards.items() if card.get("real")}
    if real:
        st.caption("Real pen drawings (pendigits' 30 writers, UJI's 60), drawn on a 280×280 canvas with a round "
                   "brush as the app receives them; " + "; ".join(
                       f"{LABELS[n]}: {r['source']}, {r['writers']} writers, worst writer #{r['worst_writer']} at "
                       f"{r['worst_writer_accuracy']:.1%}" for n, r in real.items()) + ".")
    _strangers_report(cards)
    calibrations = {name: card["calibration"] for name, card in cards.items() if card.get("calibration")}
    if calibrations:
        st.markdown("**Can you trust its confidence?** Reliability on the same held-out drawings, before and after "
                    "temperature scaling (fitted on half the writers, measured on the other half).")
        st.plotly_chart(figs.reliability_diagram(calibrations), config=figs.CONFIG, key="eval_reliability")
        st.caption(f"Each dot is a bin of drawings of about the same confidence; its area and the number beside "
                   f"it say how many drawings it holds. Hollow dots hold fewer than {figs.FEW}: their accuracy "
                   "is a handful of drawings, not a measurement.")
        st.caption(" ".join(f"{LABELS[n]}: temperature {c['temperature']:.2f}; answers below "
                            f"{c['unsure_below']:.0%} are shown as a question (“4 or 9?”), "
                            f"{1 - c['sure_share']:.1%} of these drawings." for n, c in calibrations.items()))


POPULATION_LABELS = {"pendigits": "pendigits: 30 writers, tablet", "uji": "UJI: 60 writers, Tablet PC (Spain)",
                     "mnist_test": "MNIST test: 10,000 digits of other writers"}


def _strangers_report(cards: dict) -> None:
    """Per population held out whole: accuracy, sure answers, asked, refused, worst writer; and the
    negatives refused, from the cards (`strangers.cross_population`)."""
    rows, refused = [], {}
    for name, card in cards.items():
        report = card.get("strangers") or {}
        for population, f in (report.get("cross_population") or report.get("populations") or {}).items():
            if population == "negatives_refused":
                continue
            rows.append({"model": LABELS[name], "population": POPULATION_LABELS.get(population, population),
                         "accuracy": f"{f['accuracy']:.1%}",
                         "sure answers right": "—" if f["sure_accuracy"] is None else f"{f['sure_accuracy']:.1%}",
                         "asked (“4 or 9?”)": f"{f['asked']:.1%}", "refused (“not a digit”)": f"{f['refused']:.2%}",
                         "worst writer": f"{f['worst_writer_accuracy']:.1%}" if f["writers"] > 1 else "—"})
        negatives = report.get("negatives_refused")
        if negatives:
            refused[LABELS[name]] = {k: f"{v:.0%}" for k, v in negatives.items() if k != "count"}
    if not rows:
        return
    st.markdown("**People it never saw.** Each population of real drawings is read by a model trained on "
                "MNIST and the *other* population only, with the “4 or 9?” and “not a digit” rules fitted on "
                "the other population (cross-population validation); MNIST's test writers never wrote a training "
                "digit. The committed models learn from every population, with the rules these readings gave.")
    st.table(pd.DataFrame(rows).set_index(["model", "population"]))
    if refused:
        st.markdown("**Not a digit.** Share refused of drawings of kinds no model trained on (letters as people "
                    "write them, crossings-out, zigzags):")
        st.table(pd.DataFrame(refused).T)


def _comparison(loaded: dict, data, error) -> None:
    st.subheader("The two models side by side")
    cards = {name: clf.card for name, clf in loaded.items()}
    measured = {}
    if data is not None:
        measured = {name: test_metrics(name, model_sha(name), data.sha256) for name in loaded}
    timing = {name: latency(name, model_sha(name)) for name in loaded}
    rows = comparison.comparison_rows(cards, measured, timing)
    table = pd.DataFrame(rows).set_index("model").rename(index=LABELS).T
    table.index = ["Parameters", "Multiply-adds per image", "File size (KB)", "Test accuracy (10,000 images)",
                   "Accuracy on hand-drawn digits", "Accuracy on MNIST test digits redrawn with a brush",
                   "Accuracy on real pen drawings of writers never trained on",
                   "… its worst writer", "Classify latency (ms, median)"]
    formats = ["{:,.0f}", "{:,.0f}", "{:,.1f}", "{:.2%}", "{:.2%}", "{:.2%}", "{:.2%}", "{:.2%}", "{:.2f}"]
    shown = pd.DataFrame({col: [fmt.format(v) if v is not None and not pd.isna(v) else "—"
                                for v, fmt in zip(table[col], formats)] for col in table.columns}, index=table.index)
    st.table(shown)
    st.caption("Parameters, multiply-adds, file size and the drawn-digit accuracies come from each model card "
               "(written at training time); test accuracy is measured here with classify_batch and checked "
               "against the card; latency is the median of 15 `Classifier.classify` calls on a 280×280 drawing "
               "(preprocessing included), measured once per app process.")
    _drawn_report(cards)
    if data is None:
        show_no_data(error, "eval_retry_comparison")
        return
    if len(loaded) < 2:
        st.info("Only one model could be loaded, so there is nothing to compare it with.")
        return

    st.plotly_chart(figs.per_digit_accuracy({n: measured[n]["per_class_accuracy"] for n in loaded},
                                            "Both models on the 10,000 test images, per digit"),
                    config=figs.CONFIG, key="eval_per_digit_both")
    a, b = list(loaded)
    probs_a = test_probabilities(a, model_sha(a), data.sha256)
    probs_b = test_probabilities(b, model_sha(b), data.sha256)
    counts = comparison.agreement_table(probs_a, probs_b, data.y_test)
    st.subheader("Where the two models disagree")
    # a table, not a row of metrics: five metrics side by side cut their labels ("both wrong, different a…")
    st.table(pd.DataFrame({"test images": [f"{count:,}" for count in counts.values()]},
                          index=[what.replace(" A ", f" {LABELS[a]} ").replace(" B ", f" {LABELS[b]} ")
                                 for what in counts]))
    index = comparison.disagreements(probs_a, probs_b)
    st.markdown(f"**{len(index):,} test images get different answers**" +
                (f" (first {MAX_IMAGES})" if len(index) > MAX_IMAGES else ""))
    index = index[:MAX_IMAGES]
    pa, pb = probs_a.argmax(axis=1), probs_b.argmax(axis=1)
    _images(data, index, [f"{data.y_test[i]} · {LABELS[a]} {pa[i]} · {LABELS[b]} {pb[i]}" for i in index], width=84)
    st.caption("Caption: true digit · each model's answer.")
