"""`tinybert`: fine-tuned TinyBERT general distillation, 4 layers, hidden 312 (14.5M parameters)."""

from pydantic import Field

from fakenews.nn.transformer import TransformerClassifier, TransformerConfig


class Config(TransformerConfig):
    pretrained: str = Field(
        "huawei-noah/TinyBERT_General_4L_312D",
        min_length=1,
        description="Hub id, local directory or package:<module> (see the transformer family).",
    )
    learning_rate: float = Field(
        1e-4, gt=0, description="Peak learning rate (small distilled encoders want more)."
    )


class Model(TransformerClassifier):
    name = "tinybert"
    Config = Config
