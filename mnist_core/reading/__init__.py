"""Reading a digit and explaining the answer: the classifier API, its confidence rules, numbers of
several digits, saliency and receptive fields.

    classifier   a trained model checked against its card; `classify(image)` -> `Result`
    calibration  temperature scaling, reliability, and the "unsure" rule
    numbers      a number written on a wide canvas split into digits and read
    explain      why one digit and not another, where a unit looks, what feeds a map

May import: mnist_core.imaging, mnist_core.pen, mnist_core.networks.
"""
