"""The two networks (the MLP and LeNet-5): what they are made of, the Keras models, the LiteRT export.

    architecture  LeNet-5's C3 table and each model's feature layers, without TensorFlow
    models        the Keras networks, their layer table and connection matrix
    litert        the export to LiteRT and its interpreter: the fast path that reads drawings
    quiet         native libraries' start-up notices kept off standard error

May import: nothing else in mnist_core.
"""
