"""embed@<dataset>: cache the sentence embedding of every text of one dataset's splits (params:
train.minilm_embed's encoder settings), so minilm_embed trains and predicts without encoding."""

from fakenews.core.stage import args, stage
from fakenews.pipeline.embed import compute_embeddings

if __name__ == "__main__":
    dataset, model = args(2, "python stages/embed.py DATASET MODEL")
    with stage(f"embed@{dataset}") as (paths, params):
        compute_embeddings(dataset, params, paths, model=model)
