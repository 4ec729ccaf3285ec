"""The reading rules fitted on populations held out (`mnist_core.evaluation.strangers`), on made-up readings."""

import numpy as np

from mnist_core.evaluation import strangers


def _readings(n, right_share, seed, sure=0.97):
    """n raw softmax rows: the right digit at `sure` for a share `right_share`, a wrong one otherwise."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n)
    chosen = np.where(rng.random(n) < right_share, labels, (labels + 1) % 10)
    top = rng.uniform(0.3, 1.0, n) if sure is None else np.full(n, sure)
    p = np.full((n, 10), 0.0)
    p[np.arange(n), chosen] = top
    p[np.arange(n), (chosen + 2) % 10] = 1 - top
    return p.astype(np.float32), labels.astype(np.uint8), rng.integers(1, 9, n)


def test_the_not_a_digit_rule_refuses_at_most_its_share_of_each_population():
    a, b = _readings(4000, 0.99, 0, sure=None), _readings(4000, 0.99, 1, sure=None)
    fitted = strangers.rules({"a": a[:2]}, {"b": b[:2]})
    for raw, labels, writers in (a, b):
        assert strangers.figures(raw, labels, writers, fitted)["refused"] <= strangers.REFUSE_AT_MOST + 1e-3
    assert fitted["not_digit_below"] <= fitted["unsure_below"]


def test_a_population_is_judged_by_rules_fitted_on_the_others_only():
    easy, hard, mnist = (_readings(3000, share, seed, sure=None) for share, seed in ((1.0, 2), (0.9, 3), (1.0, 4)))
    negatives = (np.full((50, 10), 0.1, np.float32), None, np.array(["zigzags"] * 50))
    report = strangers.cross_population({"pendigits": easy, "uji": hard, "mnist_test": mnist, "negatives": negatives})
    assert report["pendigits"]["rules_fitted_on"] == ["uji"] and report["uji"]["rules_fitted_on"] == ["pendigits"]
    from_easy = strangers.rules({"pendigits": easy[:2]}, {"mnist_test": mnist[:2]})
    assert {k: v for k, v in report["uji"].items() if k != "rules_fitted_on"} == strangers.figures(*hard, from_easy)
    from_both = strangers.rules({"pendigits": easy[:2], "uji": hard[:2]}, {"mnist_test": mnist[:2]})
    assert from_both != from_easy and report["mnist_test"] == strangers.figures(*mnist, from_both)
    assert report["negatives_refused"] == {"zigzags": 1.0, "all": 1.0, "count": 50}
