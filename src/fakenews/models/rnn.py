"""`rnn`: embedding -> one RNN layer -> dropout -> linear (the notebooks' design)."""

from typing import Literal

from pydantic import Field

from fakenews.nn.recurrent import RecurrentClassifier, RecurrentConfig


class Config(RecurrentConfig):
    cell: Literal["rnn"] = Field("rnn", description="Fixed for this model.")


class Model(RecurrentClassifier):
    name = "rnn"
    Config = Config
