"""Registry of dataset sources: where each comes from and how to check it.

One entry per source: upstream URL(s), published checksums (sha256, or md5 where that is all
upstream publishes), archive handling, and, for sources behind a login, how to place the files by
hand. Which loader turns a source's raw files into the standard schema lives in
:mod:`fakenews.sources.loaders`, keyed by the same name. Checksums are those of the extracted files,
so the same check serves a download, an offline mirror (``FAKENEWS_DATA_MIRROR``) and hand-placed
files alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fakenews.core.config import DatasetConfig

CUSTOM = "custom"
# Files shipped inside the package that this module reads (relative to this folder); the
# dependency check (tests/depcheck.py) makes every stage importing it declare them.
PACKAGE_DATA = ("checksums",)
EXTERNAL_DIR = "data/external"  # <root>/data/external/<dataset>/: files a user places by hand


@dataclass(frozen=True)
class RemoteFile:
    """One file of a source, as it lies under ``data/raw/<dataset>/`` once downloaded."""

    path: str
    url: str | None = None  # None: the file comes out of the source's archive
    sha256: str | None = None
    md5: str | None = None
    size: int | None = None


@dataclass(frozen=True)
class Archive:
    """A zip that upstream ships; ``files`` are extracted from it (matched by member path)."""

    url: str
    sha256: str | None = None
    md5: str | None = None
    strip_prefix: str = ""  # leading folder of every member, removed on extraction


@dataclass(frozen=True)
class Source:
    name: str
    title: str
    homepage: str
    files: tuple[RemoteFile, ...]
    archive: Archive | None = None
    manual: str | None = None  # set when upstream needs a login: how to place the files
    official_splits: bool = False
    citation: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)

    def check_options(self, dataset: str, options: DatasetConfig) -> None:
        from fakenews.core.config import ParamsError

        custom_keys = [
            key
            for key in (
                "path",
                "format",
                "text_column",
                "title_column",
                "label_column",
                "id_column",
                "label_map",
                "sha256",
            )
            if getattr(options, key) is not None
        ]
        if custom_keys:
            raise ParamsError(
                f"params.yaml: datasets.{dataset}.{custom_keys[0]}: only the 'custom' source "
                f"takes file options; {self.name!r} is a built-in source"
            )


@dataclass(frozen=True)
class CustomSource(Source):
    """A user's own CSV/TSV/parquet/JSONL file, described in params.yaml."""

    def check_options(self, dataset: str, options: DatasetConfig) -> None:
        from fakenews.core.config import ParamsError

        for key in ("path", "text_column", "label_column", "label_map"):
            if getattr(options, key) in (None, "", {}):
                raise ParamsError(
                    f"params.yaml: datasets.{dataset}.{key}: required for a 'custom' source"
                )
        assert options.label_map is not None
        if set(options.label_map.values()) != {0, 1}:
            raise ParamsError(
                f"params.yaml: datasets.{dataset}.label_map: must map some values to 1 (fake) "
                f"and some to 0 (real), got {options.label_map}"
            )
        folder = PurePosixPath(EXTERNAL_DIR, dataset)
        path = PurePosixPath(str(options.path))
        if path.is_absolute() or folder not in path.parents:
            # download@<dataset> depends on this folder: a file elsewhere could change unseen.
            raise ParamsError(
                f"params.yaml: datasets.{dataset}.path: {options.path!r} must lie in "
                f"{folder}/ (the folder DVC tracks as download@{dataset}'s input, so editing the "
                f"file reruns the pipeline), e.g. {folder}/{path.name}"
            )


def _checksum_list(name: str) -> dict[str, str]:
    text = resources.files("fakenews.sources").joinpath(PACKAGE_DATA[0], name).read_text("utf-8")
    entries = {}
    for line in text.splitlines():
        if line.strip():
            digest, path = line.split(maxsplit=1)
            entries[path.strip()] = digest
    return entries


_GH = "https://raw.githubusercontent.com"
_FNN_V1 = f"{_GH}/KaiDMML/FakeNewsNet/old-version/"
_KAGGLE_HOWTO = (
    "This source needs a Kaggle login, so it cannot be downloaded automatically. Download it "
    "from {page}, then place {files} in data/external/{name}/ (or in <mirror>/{name}/ with "
    "FAKENEWS_DATA_MIRROR set) and rerun `dvc repro`; the files are verified by checksum."
)

SOURCES: dict[str, Source] = {}


def _register(source: Source) -> None:
    SOURCES[source.name] = source


_register(
    Source(
        name="liar",
        title="LIAR (Wang, ACL 2017): 12.8k PolitiFact statements, six truthfulness labels",
        homepage="https://www.cs.ucsb.edu/~william/data/liar_dataset.zip",
        archive=Archive(url="https://www.cs.ucsb.edu/~william/data/liar_dataset.zip"),
        files=(
            RemoteFile(
                "train.tsv",
                sha256="23ef8cb7ff57b25c941100d0744039cebc595d65a67ea190f72b330a658d8c36",
                size=2408165,
            ),
            RemoteFile(
                "valid.tsv",
                sha256="8dd3d7ed1a11e78ed7df090c9eddb0f91147f895850c78d49dd7b4e88fd09a16",
                size=301556,
            ),
            RemoteFile(
                "test.tsv",
                sha256="ee41e2c741e0019216952625145af8c4aa8c8d3057ec68284b134267bb845e6f",
                size=301118,
            ),
        ),
        official_splits=True,
        citation="Wang 2017, 'Liar, Liar Pants on Fire', ACL.",
        notes=("No checksum is published for the zip; the extracted TSVs are verified.",),
    )
)

_register(
    Source(
        name="constraint",
        title="COVID-19 fake news, CONSTRAINT@AAAI-2021 English (Patwa et al. 2021)",
        homepage="https://competitions.codalab.org/competitions/26655",
        files=(
            RemoteFile(
                "Constraint_Train.csv",
                url=f"{_GH}/diptamath/covid_fake_news/main/data/Constraint_Train.csv",
                sha256="441f3985bb76eb69d1e488cf292f80add96c4dddfa43ba7c060889607837ddce",
                size=1253562,
            ),
            RemoteFile(
                "Constraint_Val.csv",
                url=f"{_GH}/diptamath/covid_fake_news/main/data/Constraint_Val.csv",
                sha256="c610931d0641fe1d9b9495c453f99ae7aa45bf294c7db6333ec84ecebb0b6c3c",
                size=412789,
            ),
            RemoteFile(
                "english_test_with_labels.csv",
                url=f"{_GH}/diptamath/covid_fake_news/main/data/english_test_with_labels.csv",
                sha256="7152fc681884a22013218c5dd9a73c6fd99d4b084705723e1e49d18c97ca8281",
                size=424950,
            ),
        ),
        official_splits=True,
        citation="Patwa et al. 2021, 'Fighting an Infodemic', CONSTRAINT@AAAI.",
        notes=("CodaLab needs registration; files come from a participant's public mirror.",),
    )
)

_register(
    Source(
        name="fakenewsnet",
        title="FakeNewsNet minimal CSVs (PolitiFact + GossipCop titles, Shu et al. 2018)",
        homepage="https://github.com/KaiDMML/FakeNewsNet",
        files=tuple(
            RemoteFile(
                f"{name}.csv",
                url=f"{_GH}/KaiDMML/FakeNewsNet/master/dataset/{name}.csv",
                sha256=digest,
                size=size,
            )
            for name, digest, size in (
                (
                    "politifact_fake",
                    "abe7fe7aad801b1e2ab5fc963cbd0881d9670190262ae3df85e91c3380bd004c",
                    3286418,
                ),
                (
                    "politifact_real",
                    "2500f86a7addca0f59fe8cf089c0f802d3eca6980f53538992b3b0e9687dbae0",
                    8278658,
                ),
                (
                    "gossipcop_fake",
                    "c6932bffadb1230bc61c66bb2ca298f4ef28ce849d268313ad2eed41d18d4c99",
                    12538704,
                ),
                (
                    "gossipcop_real",
                    "d721e9a8b7e660da05c089691743c33fecb25367074e936b5fab3d85cdcbe79f",
                    19978126,
                ),
            )
        ),
        citation="Shu et al. 2018, 'FakeNewsNet', arXiv:1809.01286.",
        notes=("Only titles and URLs: the article texts are not redistributed.",),
    )
)

_register(
    Source(
        name="fakenewsnet_v1",
        title="FakeNewsNet old version: BuzzFeed + PolitiFact full-text articles (Shu et al. 2017)",
        homepage="https://github.com/KaiDMML/FakeNewsNet/tree/old-version/Data",
        files=tuple(
            RemoteFile(path, url=_FNN_V1 + path, sha256=digest)
            for path, digest in sorted(_checksum_list("fakenewsnet_v1.sha256").items())
        ),
        citation="Shu et al. 2017, 'Fake News Detection on Social Media', SIGKDD Explorations.",
    )
)

_register(
    Source(
        name="isot",
        title="ISOT Fake News (Ahmed, Traore & Saad 2017)",
        homepage="https://www.kaggle.com/datasets/clmentbisaillon/fake-and-real-news-dataset",
        files=(
            RemoteFile(
                "Fake.csv",
                sha256="bebf8bcfe95678bf2c732bf413a2ce5f621af0102c82bf08083b2e5d3c693d0c",
                size=62789876,
            ),
            RemoteFile(
                "True.csv",
                sha256="ba0844414a65dc6ae7402b8eee5306da24b6b56488d6767135af466c7dcb2775",
                size=53582940,
            ),
        ),
        manual=_KAGGLE_HOWTO.format(
            page="https://www.kaggle.com/datasets/clmentbisaillon/fake-and-real-news-dataset "
            "(or https://onlineacademiccommunity.uvic.ca/isot/)",
            files="Fake.csv and True.csv",
            name="isot",
        ),
        citation="Ahmed, Traore & Saad 2017, ISDDC.",
        notes=("Real articles start with a 'CITY (Reuters) -' dateline: a known shortcut.",),
    )
)

_register(
    Source(
        name="welfake",
        title="WELFake (Verma et al. 2021): 72k articles merged from four corpora",
        homepage="https://zenodo.org/records/4561253",
        files=(
            RemoteFile(
                "WELFake_Dataset.csv",
                url="https://zenodo.org/records/4561253/files/WELFake_Dataset.csv?download=1",
                md5="73c9675a4b3d09f86a6933d0b8d7d908",
            ),
        ),
        citation="Verma et al. 2021, IEEE TCSS.",
        notes=(
            "The record says 0 = fake, 1 = real, yet its own counts (37,106 rows labelled 1 = "
            "its fake count) show 1 = fake in the file; the loader keeps 1 = fake.",
        ),
    )
)

_register(
    Source(
        name="fake_or_real_news",
        title="fake_or_real_news.csv (McIntire; 6,335 articles, REAL/FAKE)",
        homepage="https://github.com/joolsa/fake_real_news_dataset",
        archive=Archive(
            url="https://github.com/joolsa/fake_real_news_dataset/raw/master/fake_or_real_news.csv.zip"
        ),
        files=(
            RemoteFile(
                "fake_or_real_news.csv",
                sha256="bb7fa746dd7148b63b0a10e47b329f4b4825afc85b206d3fea18ecfce28ee731",
                size=30696129,
            ),
        ),
    )
)

_register(
    CustomSource(
        name=CUSTOM,
        title="A user's own file (CSV/TSV/parquet/JSONL) described in params.yaml",
        homepage="",
        files=(),
    )
)


def source_for(dataset: str, options: DatasetConfig) -> Source:
    """The dataset's source, after checking its options; ParamsError names the key at fault."""
    from fakenews.core.config import ParamsError

    name = options.source or dataset
    if name not in SOURCES:
        key = f"datasets.{dataset}.source" if options.source else f"datasets.{dataset}"
        raise ParamsError(
            f"params.yaml: {key}: unknown dataset source {name!r}; "
            f"known sources: {', '.join(sorted(SOURCES))}"
        )
    source = SOURCES[name]
    source.check_options(dataset, options)
    return source
