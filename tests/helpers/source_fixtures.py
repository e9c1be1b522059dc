"""Tiny, format-faithful copies of every source's raw files, for tests.

``write_source_fixture(source, directory)`` writes the files at the relative paths the real source
uses (``get_source(source).files``), in the upstream format: same headers, delimiters, quoting, line
endings and label spellings. Fake and real rows use different vocabulary (sensational vs. sober
reporting) so that a classifier can learn them, and every row differs from every other. The
output is fully deterministic: texts are built from the row index, never from a random source.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

# DatasetConfig kwargs each fixture needs: nothing for the built-ins, the file options for custom.
SOURCE_FIXTURE_OPTIONS: dict[str, dict[str, Any]] = {
    "liar": {},
    "constraint": {},
    "fakenewsnet": {},
    "fakenewsnet_v1": {},
    "isot": {},
    "welfake": {},
    "fake_or_real_news": {},
    "custom": {
        "source": "custom",
        "path": "my_news.csv",
        "text_column": "body",
        "title_column": "headline",
        "label_column": "verdict",
        "label_map": {"FAKE": 1, "TRUE": 0},
    },
}

CUSTOM_FILE = "my_news.csv"

# --------------------------------------------------------------------------------------------
# Text generators: fake = sensational, conspiratorial; real = sober, attributed reporting.

_FAKE_TOPICS = (
    "vaccines", "the election results", "5G towers", "tap water", "the moon landing",
    "the central bank", "a famous actor", "chemtrails", "the new farm law", "the senator's health",
)  # fmt: skip
_FAKE_SOURCES = (
    "an anonymous insider", "a whistleblower", "patriot researchers", "a leaked memo",
    "a secret recording", "brave citizen journalists", "a deleted video",
)  # fmt: skip
_FAKE_HOOKS = (
    "SHOCKING: the secret truth about {topic} that they don't want you to know",
    "BOMBSHELL: {topic} exposed as a massive hoax",
    "Mainstream media silent as {topic} cover-up finally collapses",
    "You won't believe what {topic} is hiding from your family",
)  # fmt: skip
_FAKE_ENDINGS = (
    "Share this before it gets banned!!!",
    "Wake up, people, the globalists are terrified!",
    "Doctors hate this and the elites are furious.",
    "They will delete this post within hours, so spread it now!",
)  # fmt: skip

_REAL_BODIES = (
    "the city council", "the health ministry", "the statistics office", "the school board",
    "the transport agency", "the state legislature", "the weather service", "the central bank",
    "the environment agency", "the labour department",
)  # fmt: skip
_REAL_TOPICS = (
    "road maintenance", "hospital staffing", "rural broadband", "teacher salaries",
    "flood defences", "public transit", "housing permits", "water quality",
)  # fmt: skip
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")
_MONTHS = ("January", "March", "May", "July", "September", "November")


def _pick(options: Sequence[str], i: int, step: int = 1) -> str:
    return options[(i * step) % len(options)]


def fake_title(i: int) -> str:
    hook = _pick(_FAKE_HOOKS, i).format(topic=_pick(_FAKE_TOPICS, i, 3))
    return f"{hook}, {i + 3} insiders confirm"


def real_title(i: int) -> str:
    body = _pick(_REAL_BODIES, i, 3)
    topic = _pick(_REAL_TOPICS, i)
    rise = f"{3 + i % 7}.{i % 10}%"
    return f"{body[0].upper()}{body[1:]} approves {rise} rise for {topic} in district {i + 1}"


def fake_text(i: int) -> str:
    topic = _pick(_FAKE_TOPICS, i, 3)
    return (
        f"{_pick(_FAKE_HOOKS, i, 3).format(topic=topic)}! According to {_pick(_FAKE_SOURCES, i)}, "
        f"the so-called experts lied about {topic} for {4 + i % 30} years and the whole thing is a "
        f"scam. Insiders say {i * 13 + 100} people already saw the proof and were silenced. "
        f"{_pick(_FAKE_ENDINGS, i)}"
    )


def real_text(i: int) -> str:
    body = _pick(_REAL_BODIES, i, 3)
    topic = _pick(_REAL_TOPICS, i)
    return (
        f"{body[0].upper()}{body[1:]} said on {_pick(_WEEKDAYS, i)} that spending on {topic} "
        f"would rise by {3 + i % 7}.{i % 10} percent next year, according to a report published "
        f"by officials. A spokesperson told reporters that the committee reviewed the data from "
        f"{i + 12} districts and expects a final vote in {_pick(_MONTHS, i)}."
    )


def fake_claim(i: int) -> str:
    """A one-sentence false claim, LIAR/CONSTRAINT style."""
    topic = _pick(_FAKE_TOPICS, i, 3)
    if i % 3 == 0:
        # Bare double quotes, as in LIAR statements: the reason LIAR is read with QUOTE_NONE.
        return f'Says {topic} "secretly caused" {i + 3} million deaths, and nobody reported it.'
    return (
        f"Says {topic} is a hoax invented by {_pick(_FAKE_SOURCES, i)} to control {i + 2} states."
    )


def real_claim(i: int) -> str:
    topic = _pick(_REAL_TOPICS, i)
    return (
        f"Spending on {topic} rose {3 + i % 7}.{i % 10} percent across {i + 5} counties in "
        f"{2010 + i % 9}, official data from {_pick(_REAL_BODIES, i, 3)} show."
    )


# --------------------------------------------------------------------------------------------
# Writers


def _write_csv(
    path: Path,
    header: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    lineterminator: str = "\n",
) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=lineterminator)
    writer.writerow(header)
    writer.writerows(rows)
    path.write_bytes(buffer.getvalue().encode("utf-8"))


def _interleave(n_per_class: int) -> list[tuple[int, bool]]:
    """(index, is_fake) pairs alternating fake/real, as real files mix the classes."""
    return [(i, fake) for i in range(n_per_class) for fake in (True, False)]


_LIAR_FAKE = ("pants-fire", "false", "barely-true")
_LIAR_REAL = ("half-true", "mostly-true", "true")
_LIAR_SPEAKERS = (
    ("dwayne-bohac", "State representative", "Texas", "republican"),
    ("scott-surovell", "State delegate", "Virginia", "democrat"),
    ("jane-doe", "", "", "none"),
    ("john-roe", "Governor", "Ohio", "independent"),
)  # fmt: skip


def _liar(directory: Path, n: int) -> None:
    for offset, name in enumerate(("train.tsv", "valid.tsv", "test.tsv")):
        rows = []
        for i, fake in _interleave(n):
            k = offset * 1000 + i  # distinct statements in every split
            speaker, job, state, party = _LIAR_SPEAKERS[i % len(_LIAR_SPEAKERS)]
            label = (_LIAR_FAKE if fake else _LIAR_REAL)[i % 3]
            counts = [str((k + j) % 5) for j in range(5)]
            statement = fake_claim(k) if fake else real_claim(k)
            rows.append(
                [f"{(offset + 1) * 1000 + 2 * i + fake}.json", label, statement,
                 "health-care,economy" if fake else "transportation", speaker, job, state, party,
                 *counts, "a campaign mailer" if fake else "a press release"]
            )  # fmt: skip
        # Plain tab-joined lines, no quoting at all: LIAR statements keep their bare quotes.
        text = "".join("\t".join(row) + "\n" for row in rows)
        (directory / name).write_bytes(text.encode("utf-8"))


def _constraint(directory: Path, n: int) -> None:
    files = ("Constraint_Train.csv", "Constraint_Val.csv", "english_test_with_labels.csv")
    for offset, name in enumerate(files):
        rows = []
        for row_id, (i, fake) in enumerate(_interleave(n), start=1):
            k = offset * 1000 + i
            if fake:
                tweet = f"{fake_claim(k)} #COVID19 https://t.co/fk{k:04d}x"
            else:
                tweet = (
                    f"Our daily update: states reported {1000 + 37 * k} tests, {20 + k} new "
                    f"cases and {k % 9} deaths. {real_claim(k)} https://t.co/rl{k:04d}y"
                )
            rows.append([str(row_id), tweet, "fake" if fake else "real"])
        # Upstream files use CRLF line endings.
        _write_csv(directory / name, ("id", "tweet", "label"), rows, lineterminator="\r\n")


def _fakenewsnet(directory: Path, n: int) -> None:
    for offset, (platform, kind) in enumerate(
        (
            ("politifact", "fake"),
            ("politifact", "real"),
            ("gossipcop", "fake"),
            ("gossipcop", "real"),
        )
    ):
        rows = []
        for i in range(n):
            k = offset * 100 + i
            news_id = (
                f"politifact{14000 + k}" if platform == "politifact" else f"gossipcop-{900000 + k}"
            )
            url = (
                f"speedtalk.com/forum/viewtopic.php?t={5000 + k}"
                if kind == "fake"
                else f"https://www.example-times.com/2018/{k % 12 + 1:02d}/story-{k}.html"
            )
            # Some rows have no tweets at all (an empty field), as upstream.
            tweets = "\t".join(str(937349434668498944 + 1000 * k + j) for j in range(i % 4))
            title = fake_title(k) if kind == "fake" else real_title(k)
            rows.append([news_id, url, title, tweets])
        _write_csv(
            directory / f"{platform}_{kind}.csv", ("id", "news_url", "title", "tweet_ids"), rows
        )


_V1_README = (
    "This directory includes two fake news dataset that contain both the news contents and social "
    "context information. The fake news ground truth are collected from two platforms: BuzzFeed "
    "and PolitiFact.\n\n"
    " - News.txt: the news_id list, index by the row num.\n"
    " - FakeNewsContent / RealNewsContent: one *-Webpage.json file per news article.\n"
)


def _v1_article(platform: str, kind: str, i: int) -> dict[str, Any]:
    k = (0 if platform == "BuzzFeed" else 500) + i
    fake = kind == "Fake"
    article: dict[str, Any] = {
        "title": fake_title(k) if fake else real_title(k),
        "text": fake_text(k) if fake else real_text(k),
    }
    if i % 5 == 4:
        return article  # about one in ten upstream files holds only title and text
    domain = f"http://www.{'truth-patriot' if fake else 'daily-record'}{k % 3}.com"
    article.update(
        {
            "top_img": f"{domain}/img/{k}.jpg",
            "url": f"{domain}/2016/09/{k}/story.html",
            "source": domain,
            "authors": [] if i % 3 == 2 else ["Wendy Gittleson", f"Reporter {k}"][: 1 + i % 2],
            # Mongo export: epoch milliseconds, or null when the crawler found no date.
            "publish_date": None if i % 4 == 3 else {"$date": 1474243200000 + 86400000 * k},
            "keywords": [],
            "images": [f"{domain}/img/{k}.jpg"],
            "movies": [],
            "summary": "",
            "meta_data": {"description": "Read the full story."},
            "canonical_link": f"{domain}/2016/09/{k}/story.html",
        }
    )
    return article


def _fakenewsnet_v1(directory: Path, n: int) -> None:
    data = directory / "Data"
    data.mkdir(parents=True, exist_ok=True)
    (data / "Readme.txt").write_text(_V1_README, encoding="utf-8")
    for platform in ("BuzzFeed", "PolitiFact"):
        ids = [f"{platform}_{kind}_{i}" for kind in ("Real", "Fake") for i in range(1, n + 1)]
        (data / platform / "News.txt").parent.mkdir(parents=True, exist_ok=True)
        (data / platform / "News.txt").write_text("\n".join(ids) + "\n", encoding="utf-8")
        for kind in ("Fake", "Real"):
            folder = data / platform / f"{kind}NewsContent"
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(1, n + 1):
                article = _v1_article(platform, kind, i)
                text = json.dumps(article, ensure_ascii=False)  # upstream keeps UTF-8 as is
                (folder / f"{platform}_{kind}_{i}-Webpage.json").write_text(text, encoding="utf-8")


def _isot(directory: Path, n: int) -> None:
    for name, fake in (("Fake.csv", True), ("True.csv", False)):
        rows = []
        for i in range(n):
            date = f"{_pick(_MONTHS, i)} {i % 28 + 1}, 2017"
            if fake:
                rows.append([fake_title(i), fake_text(i), ("News", "politics")[i % 2], date])
            else:
                # The "CITY (Reuters) -" dateline of every real ISOT article (a known shortcut).
                text = f"WASHINGTON (Reuters) - {real_text(i)}"
                rows.append([real_title(i), text, ("politicsNews", "worldnews")[i % 2], date])
        _write_csv(directory / name, ("title", "text", "subject", "date"), rows)


def _welfake(directory: Path, n: int) -> None:
    rows = []
    for index, (i, fake) in enumerate(_interleave(n)):
        k = 200 + i
        # In the file, 1 = fake (see the comment in fakenews.sources.welfake).
        if fake:
            rows.append([str(index), fake_title(k), fake_text(k), "1"])
        else:
            rows.append([str(index), real_title(k), real_text(k), "0"])
    _write_csv(directory / "WELFake_Dataset.csv", ("", "title", "text", "label"), rows)


def _fake_or_real_news(directory: Path, n: int) -> None:
    rows = []
    for i, fake in _interleave(n):
        k = 300 + i
        row_id = 8476 + 37 * (2 * i + fake)  # upstream ids are unique but not consecutive
        if fake:
            rows.append([str(row_id), fake_title(k), fake_text(k), "FAKE"])
        else:
            rows.append([str(row_id), real_title(k), real_text(k), "REAL"])
    _write_csv(directory / "fake_or_real_news.csv", ("", "title", "text", "label"), rows)


def _custom(directory: Path, n: int) -> None:
    rows = []
    for i, fake in _interleave(n):
        k = 400 + i
        if fake:
            rows.append([fake_text(k), fake_title(k), "FAKE"])
        else:
            rows.append([real_text(k), real_title(k), "TRUE"])
    _write_csv(directory / CUSTOM_FILE, ("body", "headline", "verdict"), rows)


# Each source's fixture: its writer, and how many rows its loader reads per ``n_per_class``
# (both classes, every file). A new source adds its line here, and nothing in the tests.
_WRITERS: dict[str, tuple[Callable[[Path, int], None], int]] = {
    "liar": (_liar, 3 * 2),  # train, valid, test
    "constraint": (_constraint, 3 * 2),  # train, val, test
    "fakenewsnet": (_fakenewsnet, 4),
    "fakenewsnet_v1": (_fakenewsnet_v1, 4),  # two platforms, n per class each
    "isot": (_isot, 2),
    "welfake": (_welfake, 2),
    "fake_or_real_news": (_fake_or_real_news, 2),
    "custom": (_custom, 2),
}


def write_source_fixture(source: str, directory: Path, n_per_class: int = 6) -> int:
    """Write a small copy of ``source``'s raw files into ``directory`` (created if needed);
    the number of rows the source's loader reads from it.

    ``n_per_class`` rows per class per file (per class and platform for fakenewsnet_v1); for
    ``custom`` the file is ``directory / "my_news.csv"`` (columns body, headline, verdict).
    """
    if source not in _WRITERS:
        raise KeyError(f"no fixture for source {source!r}; have {sorted(_WRITERS)}")
    if n_per_class < 1:
        raise ValueError("n_per_class must be at least 1")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    write, rows_per_n = _WRITERS[source]
    write(directory, n_per_class)
    return rows_per_n * n_per_class
