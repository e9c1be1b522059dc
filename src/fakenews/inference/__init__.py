"""Inference: a trained model's predictions on new text (``fakenews predict``, MLflow pyfunc)."""
