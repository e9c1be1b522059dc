"""`bilstm`: stacked bidirectional LSTM (128 then 64 units) -> dense 64 -> dropout 0.5 -> output.

The other published design (one BiLSTM layer of 128 over 300-d embeddings, first 200 words) is
`hidden_sizes: [128], embedding_dim: 300, max_len: 200, dense_size: null` in params.yaml.
"""

from typing import Literal

from pydantic import Field

from fakenews.nn.recurrent import RecurrentClassifier, RecurrentConfig


class Config(RecurrentConfig):
    cell: Literal["lstm"] = Field("lstm", description="Fixed for this model.")
    bidirectional: bool = Field(True, description="Read each sequence both ways.")
    vocab_size: int = Field(50_000, ge=10, description="Words kept (most frequent in train).")
    hidden_sizes: tuple[int, ...] = Field((128, 64), min_length=1, description="Units per layer.")
    dense_size: int | None = Field(64, ge=1, description="ReLU layer before the output.")
    dropout: float = Field(0.5, ge=0, lt=1, description="Dropout before the output layer.")
    max_len: int = Field(500, ge=1, description="Tokens kept per text (the first ones).")


class Model(RecurrentClassifier):
    name = "bilstm"
    Config = Config
