"""fakenews: a reproducible benchmark pipeline for fake-news detectors.

Docstring only: every stage imports this package, so code here would be a dependency of every
stage in dvc.yaml (the version is `importlib.metadata.version("fakenews")`).
"""
