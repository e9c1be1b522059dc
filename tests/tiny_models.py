"""Compatibility re-export: the tiny models moved to tests/helpers/tiny_models.py."""

from __future__ import annotations

from helpers.tiny_models import TINY_LSTM, make_tiny_bert, toy_rows, train_folder

__all__ = ["TINY_LSTM", "make_tiny_bert", "toy_rows", "train_folder"]
