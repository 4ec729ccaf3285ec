"""Training the networks and writing them with their cards and LiteRT exports; training you can watch.

    train_config      what a training run is told to do (no TensorFlow)
    train             data -> augmented batches -> model.fit -> models/<name>.keras, .tflite, .json
    live              one training in a background thread, with progress, snapshots and cancel
    live_calibration  a model trained in the app calibrated by the committed models' rule

May import: mnist_core.imaging, mnist_core.pen, mnist_core.networks, mnist_core.reading, mnist_core.datasets, mnist_core.evaluation, mnist_core.collection.
"""
