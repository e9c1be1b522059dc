"""`distilbert`: fine-tuned DistilBERT base uncased, 6 layers, hidden 768 (66M parameters)."""

from pydantic import Field

from fakenews.nn.transformer import TransformerClassifier, TransformerConfig


class Config(TransformerConfig):
    pretrained: str = Field(
        "distilbert-base-uncased",
        min_length=1,
        description="Hub id, local directory or package:<module> (see the transformer family).",
    )
    learning_rate: float = Field(
        1e-4, gt=0, description="Peak learning rate (small distilled encoders want more)."
    )


class Model(TransformerClassifier):
    name = "distilbert"
    Config = Config
