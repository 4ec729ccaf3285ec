"""Measuring the models: accuracy and confusion, comparisons, populations held out whole (and the
reading rules fitted on them), robustness curves, latency benchmarks.

    evaluate    accuracy overall and per class, confusion matrix, loss
    comparison  the test set's confusions, confident mistakes and disagreements of two models
    strangers   how a model reads writers it never saw, and the rules fitted on them
    robustness  a model's probability of the right digit as a transformation grows
    bench       the latency of each step from drawing to answer, and batch throughput

May import: mnist_core.imaging, mnist_core.pen, mnist_core.networks, mnist_core.reading, mnist_core.datasets.
"""
