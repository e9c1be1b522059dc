"""fakenews: a reproducible benchmark pipeline for fake-news detectors."""

__version__ = "0.1.0"
