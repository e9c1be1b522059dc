"""`gru`: embedding -> one GRU layer -> dropout -> linear (the notebooks' design)."""

from typing import Literal

from pydantic import Field

from fakenews.nn.recurrent import RecurrentClassifier, RecurrentConfig


class Config(RecurrentConfig):
    cell: Literal["gru"] = Field("gru", description="Fixed for this model.")


class Model(RecurrentClassifier):
    name = "gru"
    Config = Config
