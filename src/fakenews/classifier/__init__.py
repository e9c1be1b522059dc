"""The classifier interface every model implements, below both ``nn/`` and ``models/``."""
