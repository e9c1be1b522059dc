"""The stage side of tracking: what a run sends to MLflow, written to a journal for later.

Importing mlflow cost every model stage ~2.5 s (MLflow 3 always imports ``mlflow.genai``) and
opening its store more, ~3 s of ~170 stages' bookkeeping. A stage now never imports mlflow: its
:class:`~fakenews.tracking.runs.Tracker` appends each call (run start with its tags and parent
group, params, metric rows with their own timestamps, tags, the split as a dataset input,
artifacts, end with status and time) to a journal, published when the stage's run ends, and a
separate process (:mod:`fakenews.tracking.replay`) sends it to MLflow, which assigns the run ids.

The spool, ``<tracking home>/.mlflow-spool/`` (git- and DVC-ignored; beside ``mlflow.db``, so a
`dvc exp run --temp` copy's journals outlive the copy)::

    <start ns>-<pid>/                     a published journal: events.jsonl, artifacts/<n>/...
    .<start ns>-<pid>.<pid>.<random>.tmp/  one being written (core.io.atomic_dir), renamed when
                                          published: a killed stage leaves no half journal
    replay.lock                           held by whoever replays (one process at a time)
    replay.log                            the background replayer's output
    failed/                               journals that could not be read, kept for a look

Artifacts are hard-linked (copied across filesystems) into the journal when logged: the
workspace file may be replaced before the replay, and a link keeps what was logged at no cost.
That holds because nothing rewrites these files in place: the stages write through
:mod:`fakenews.core.io`'s atomic renames and DVC replaces files on checkout. The tracking URI
and experiment are resolved here, in the stage, and so are the context tags MLflow's
``start_run`` would add (user, source, git), so a replay in another process (the report stage,
``fakenews repro``) gives the same run.
"""

from __future__ import annotations

import configparser
import contextlib
import fcntl
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from fakenews.core.io import atomic_dir
from fakenews.core.paths import Paths
from fakenews.tracking.client import tracking_home

log = logging.getLogger(__name__)

SPOOL_NAME = ".mlflow-spool"
JOURNAL_VERSION = 1
EVENTS_FILE = "events.jsonl"
ARTIFACTS_DIR = "artifacts"
LOCK_FILE = "replay.lock"
LOG_FILE = "replay.log"
FAILED_DIR = "failed"
# A published journal's name: its run's start (ns, zero-padded so names sort by age) and pid.
JOURNAL_NAME = re.compile(r"^\d{20}-\d+$")
# "background" (default): a stage starts a replayer when it publishes a journal; "manual": the
# journals wait for the report stage, `fakenews repro`'s end or `fakenews replay`.
REPLAY_VARIABLE = "FAKENEWS_TRACKING_REPLAY"
REPLAY_MODES = ("background", "manual")


def spool_dir(paths: Paths) -> Path:
    """Where ``paths``' stages leave their journals: beside the default tracking store."""
    return tracking_home(paths).root / SPOOL_NAME


def now_ms() -> int:
    return int(time.time() * 1000)


def published(spool: Path) -> list[Path]:
    """The spool's published journals, oldest first ([] when there is no spool)."""
    try:
        entries = list(spool.iterdir())
    except (FileNotFoundError, NotADirectoryError):
        return []
    return sorted(p for p in entries if JOURNAL_NAME.match(p.name) and p.is_dir())


# --- the context tags MLflow's fluent start_run adds ---------------------------------------------


def _git(folder: str, *args: str) -> str | None:
    try:
        result = subprocess.run(
            ["git", "-C", folder, *args], capture_output=True, text=True, check=False, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() if result.returncode == 0 else None


def _without_credentials(url: str) -> str:
    """``url`` without user:password@ (MLflow strips them before recording the repo URL)."""
    parsed = urlsplit(url)
    if not parsed.scheme or "@" not in parsed.netloc:
        return url
    return urlunsplit(parsed._replace(netloc=parsed.netloc.rpartition("@")[2]))


def git_context(main_file: str | None) -> dict[str, str]:
    """MLflow's GitRunContext tags for ``main_file``, from the git command line (no GitPython
    import in the stage): commit, branch and first remote's URL, or nothing outside a repo."""
    if not main_file:
        return {}
    folder = os.path.dirname(os.path.abspath(main_file)) if os.path.isfile(main_file) else main_file
    if not os.path.isdir(folder):
        return {}
    commit = _git(folder, "rev-parse", "--verify", "-q", "HEAD")
    # MLflow gives no commit for a script in a git-ignored folder (a venv's entry point).
    if not commit or _git(folder, "check-ignore", "-q", folder) is not None:
        return {}
    tags = {"mlflow.source.git.commit": commit}
    branch = _git(folder, "symbolic-ref", "--short", "-q", "HEAD")
    if branch:
        tags["mlflow.source.git.branch"] = branch
    remotes = _git(folder, "config", "--get-regexp", r"^remote\..*\.url$")
    if remotes:
        url = remotes.splitlines()[0].split(" ", 1)[-1]
        tags["mlflow.source.git.repoURL"] = _without_credentials(url)
    return tags


def _mlflow_user() -> str:
    """MLflow's DefaultRunContext user: the tracking username if set, else the login name."""
    user = os.environ.get("MLFLOW_TRACKING_USERNAME")
    if not user:
        config = configparser.ConfigParser()
        with contextlib.suppress(configparser.Error):
            config.read(os.path.expanduser("~/.mlflow/credentials"))
        user = config.get("mlflow", "mlflow_tracking_username", fallback=None)
    if user:
        return user
    import getpass

    try:
        return getpass.getuser()
    except (ImportError, KeyError, OSError):
        return "unknown"


def run_context_tags(main_file: str | None = None) -> dict[str, str]:
    """The tags MLflow's ``resolve_tags`` adds to a run started in this process: its default
    (user, source name and type), git and ``MLFLOW_RUN_CONTEXT`` providers. The notebook,
    Databricks and plugin providers are left out: a DVC stage runs in none of them."""
    main_file = main_file if main_file is not None else (sys.argv[0] if sys.argv else None)
    tags = {
        "mlflow.user": _mlflow_user(),
        "mlflow.source.name": main_file or "<console>",
        "mlflow.source.type": "LOCAL",
        **git_context(main_file),
    }
    extra = os.environ.get("MLFLOW_RUN_CONTEXT")
    if extra:
        with contextlib.suppress(ValueError, TypeError):
            tags.update({str(k): str(v) for k, v in json.loads(extra).items()})
    return tags


# --- a journal -------------------------------------------------------------------------------


def _link_or_copy(source: str, target: str) -> None:
    try:
        os.link(source, target)
    except OSError:  # another filesystem, or links not allowed: a copy does as well
        shutil.copy2(source, target)


class Journal:
    """One stage run's journal (its child runs included), built in a temporary folder of the
    spool and renamed into place by :meth:`publish`."""

    def __init__(self, spool: Path, header: dict[str, Any]) -> None:
        spool.mkdir(parents=True, exist_ok=True)
        self.spool = spool
        self.name = f"{time.time_ns():020d}-{os.getpid()}"
        self._writing = atomic_dir(spool / self.name)
        self.folder = self._writing.__enter__()
        self.events: list[dict[str, Any]] = [
            {"event": "journal", "version": JOURNAL_VERSION, **header}
        ]
        self.runs = 0
        self._artifacts = 0

    def new_run(self) -> int:
        self.runs += 1
        return self.runs - 1

    def add(self, event: dict[str, Any]) -> None:
        self.events.append(event)

    def keep_artifacts(self, path: Path) -> tuple[str, bool]:
        """Link ``path`` (a file or a folder) into the journal now; return where it is kept
        (relative to the journal) and whether it is a folder."""
        path = Path(path)
        folder = self.folder / ARTIFACTS_DIR / str(self._artifacts)
        self._artifacts += 1
        if path.is_dir():
            spool = self.spool.resolve()

            def this_spool(parent: str, names: list[str]) -> list[str]:
                # A folder holding the spool (the repo, say) must not copy its own journal.
                return [SPOOL_NAME] if Path(parent).resolve() / SPOOL_NAME == spool else []

            shutil.copytree(path, folder, copy_function=_link_or_copy, ignore=this_spool)
            return folder.relative_to(self.folder).as_posix(), True
        folder.mkdir(parents=True)
        _link_or_copy(str(path), str(folder / path.name))  # MLflow keeps the file's name
        return (folder / path.name).relative_to(self.folder).as_posix(), False

    def publish(self) -> Path:
        """Write the events and rename the journal into place; return its folder."""
        lines = "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in self.events)
        (self.folder / EVENTS_FILE).write_text(lines, encoding="utf-8")
        self._writing.__exit__(None, None, None)
        return self.spool / self.name

    def discard(self) -> None:
        self._writing.__exit__(RuntimeError, RuntimeError("discarded"), None)


# --- the replayer's lock and start ---------------------------------------------------------------


@contextlib.contextmanager
def replay_lock(spool: Path) -> Iterator[bool]:
    """Try to take the spool's replay lock without waiting; yield whether it was taken."""
    spool.mkdir(parents=True, exist_ok=True)
    with open(spool / LOCK_FILE, "a+b") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def replay_mode() -> str:
    mode = os.environ.get(REPLAY_VARIABLE, "").strip().lower() or "background"
    return mode if mode in REPLAY_MODES else "background"


def start_replayer(spool: Path, cwd: Path) -> bool:
    """Start a detached replayer for ``spool`` unless one is running (or replay is manual);
    return whether one was started.

    A running replayer looks at the spool again after releasing its lock, so a journal
    published while it held the lock is never left behind (see :mod:`fakenews.tracking.replayer`).
    """
    if replay_mode() == "manual":
        return False
    with replay_lock(spool) as free:
        if not free:
            return False
    with open(spool / LOG_FILE, "ab") as out:
        subprocess.Popen(
            [sys.executable, "-m", "fakenews.tracking.replayer", str(spool)],
            cwd=cwd if cwd.is_dir() else spool,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # outlives the stage; DVC does not wait for it
            close_fds=True,
        )
    return True
