"""`lstm`: embedding -> one LSTM layer -> dropout -> linear (the notebooks' design)."""

from typing import Literal

from pydantic import Field

from fakenews.nn.recurrent import RecurrentClassifier, RecurrentConfig


class Config(RecurrentConfig):
    cell: Literal["lstm"] = Field("lstm", description="Fixed for this model.")


class Model(RecurrentClassifier):
    name = "lstm"
    Config = Config
