"""`bert_base`: fine-tuned BERT-base uncased (110M parameters, 12 layers, hidden 768)."""

from pydantic import Field

from fakenews.nn.transformer import TransformerClassifier, TransformerConfig


class Config(TransformerConfig):
    pretrained: str = Field(
        "bert-base-uncased",
        min_length=1,
        description="Hub id, local directory or package:<module> (see the transformer family).",
    )
    learning_rate: float = Field(2e-5, gt=0, description="Peak learning rate (BERT recipe).")


class Model(TransformerClassifier):
    name = "bert_base"
    Config = Config
