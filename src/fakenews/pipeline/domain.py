"""domain@<dataset> / domain-union@<union>: the domain profile of a training set's texts.

One profile per training set, shared by every model trained on it (they all read the same
fields: the profile records them and :class:`~fakenews.inference.served.ServedModel` checks);
a k-fold dataset gets one per fold (``fold-<k>/``), from that fold's train and val rows.
"""

from __future__ import annotations

import logging

from fakenews.analysis.domain import DomainProfile, domain_dir
from fakenews.analysis.stats import EvaluateConfig
from fakenews.classifier.base import model_input
from fakenews.core.io import atomic_dir, read_split
from fakenews.core.params import Params
from fakenews.core.paths import Paths, fold_dirs, fold_name

log = logging.getLogger(__name__)


def build_domain(dataset: str, params: Params, paths: Paths) -> list[DomainProfile]:
    """Fit and write the profile(s) of ``dataset`` (a training dataset or a union)."""
    config = params.section("evaluate", EvaluateConfig).domain
    split_dir = paths.union(dataset) if dataset in params.unions else paths.split(dataset)
    folds = fold_dirs(split_dir)
    parts = [(d, fold_name(k)) for k, d in enumerate(folds)] if folds else [(split_dir, "")]
    fields = list(config.text_fields)
    profiles: list[DomainProfile] = []
    with atomic_dir(domain_dir(paths, dataset)) as tmp:
        for part_split, sub in parts:
            train = model_input(read_split(part_split, "train"), fields)
            val = model_input(read_split(part_split, "val"), fields)
            try:
                profile = DomainProfile.fit(train, val, config)
            except ValueError as error:
                raise ValueError(f"{dataset} {sub}: {error} ({part_split})".strip()) from None
            out = tmp / sub if sub else tmp
            out.mkdir(exist_ok=True)
            profile.write_files(out)
            profiles.append(profile)
            log.info(
                "%s%s: domain profile of %d training texts (%d kept), threshold %.4f",
                dataset,
                f" {sub}" if sub else "",
                len(train),
                profile.info["sampled"],
                profile.threshold,
            )
    return profiles
