"""The drawings people keep: the database (SQLite or PostgreSQL), the collected drawings as a data
set, classes that make their own MNIST, and what a class's wall shows.

    database    drawings users confirmed or corrected, and classes, kept in a database
    collected   the collected drawings as a data set, split by session, scored
    classroom   a class: start, join, add, hide, end, export
    class_wall  the wall's figures computed from a class's drawings

May import: mnist_core.imaging, mnist_core.pen, mnist_core.networks, mnist_core.reading, mnist_core.datasets, mnist_core.evaluation.
"""
