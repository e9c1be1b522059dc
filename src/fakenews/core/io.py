"""Atomic file writing and hashing: nothing half-written is ever left behind."""

from __future__ import annotations

import contextlib
import glob
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fakenews.core.errors import DatasetError

if TYPE_CHECKING:
    import pandas as pd

# The split files every model reads: data/split/<dataset>/<name>.parquet.
SPLITS = ("train", "val", "test")
#: Digits every float written to a result file keeps.
DIGITS = 6


def rounded(value: float, digits: int = DIGITS) -> float:
    """``value`` as written to a result file (a plain float, ``digits`` decimals)."""
    return round(float(value), digits)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# Temporary files sit beside their target (same filesystem, so the final rename is atomic) and
# are named `.<target name>.<pid>.<random>.tmp`: `.dvcignore` hides the pattern from DVC, so a
# killed stage's leftovers never change a folder's hash, and the next write to the same target
# removes them once their process is gone.
TEMP_SUFFIX = ".tmp"


def _temp_prefix(target: Path) -> str:
    return f".{target.name}.{os.getpid()}."


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def _owner_died(entry: Path) -> bool:
    """Whether ``entry`` (`.<target>.<pid>.<random or "old">.tmp`) is a dead process's."""
    parts = entry.name.rsplit(".", 3)
    return len(parts) == 4 and parts[1].isdigit() and not _pid_alive(int(parts[1]))


def _remove(entry: Path) -> None:
    if entry.is_dir() and not entry.is_symlink():
        shutil.rmtree(entry, ignore_errors=True)
    else:
        entry.unlink(missing_ok=True)


def remove_stale_temps(target: Path) -> list[Path]:
    """Delete temporary files and folders left beside ``target`` by processes that died."""
    removed = []
    for entry in target.parent.glob(f".{glob.escape(target.name)}.*{TEMP_SUFFIX}"):
        if _owner_died(entry):
            _remove(entry)
            removed.append(entry)
    return removed


def sweep_stale_temps(folders: Iterable[Path]) -> list[Path]:
    """Delete every dead process's temporary file under ``folders``.

    A stage killed during a forced rerun leaves its previous outputs intact, so DVC may never
    rerun it; its temporary files would wait for the next write to the same target. Every stage
    sweeps the output folders at start instead (a few hundred entries: milliseconds).
    """
    removed = []
    for folder in folders:
        for parent, dirs, names in os.walk(folder):
            for name in [*dirs, *names]:
                if not (name.startswith(".") and name.endswith(TEMP_SUFFIX)):
                    continue
                entry = Path(parent) / name
                if _owner_died(entry):
                    _remove(entry)
                    removed.append(entry)
            dirs[:] = [d for d in dirs if not d.endswith(TEMP_SUFFIX)]
    return removed


@contextlib.contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it over ``target`` only on success."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(target)
    fd, tmp = tempfile.mkstemp(prefix=_temp_prefix(target), suffix=TEMP_SUFFIX, dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.chmod(tmp_path, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual mode
        os.replace(tmp_path, target)
    finally:
        tmp_path.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_dir(target: Path) -> Iterator[Path]:
    """Yield a temporary folder beside ``target``; swap it in for ``target`` only on success."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(target)
    prefix = _temp_prefix(target)
    tmp = Path(tempfile.mkdtemp(prefix=prefix, suffix=TEMP_SUFFIX, dir=target.parent))
    try:
        yield tmp
        os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes 0700; give the usual mode
        if target.exists():
            old = target.with_name(f"{prefix}old{TEMP_SUFFIX}")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(target, old)
            os.replace(tmp, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def to_json_text(data: Any) -> str:
    # Sorted keys and a trailing newline: the same data always gives the same bytes.
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_json(path: Path, data: Any) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(to_json_text(data), encoding="utf-8")


def write_text(path: Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def read_json(path: Path) -> Any:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def write_parquet(path: Path, frame: pd.DataFrame) -> None:
    # Fixed compression and no index: same frame -> byte-identical file.
    with atomic_path(path) as tmp:
        frame.to_parquet(tmp, index=False, compression="zstd", engine="pyarrow")


def read_split(split_dir: Path, name: str) -> pd.DataFrame:
    """One split of a dataset (written by split@<dataset>) as a frame."""
    import pandas as pd

    path = Path(split_dir) / f"{name}.parquet"
    if not path.is_file():
        raise DatasetError(f"split file {path} not found; run `dvc repro` to build the splits")
    return pd.read_parquet(path)


def sha256_file(path: Path, chunk_size: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def md5_file(path: Path, chunk_size: int = 1 << 20) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as handle:
        while chunk := handle.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def sha256_tree(directory: Path) -> str:
    """One hash over every file's relative path and content, in sorted order."""
    digest = hashlib.sha256()
    directory = Path(directory)
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        digest.update(path.relative_to(directory).as_posix().encode())
        digest.update(b"\0")
        digest.update(sha256_file(path).encode())
    return digest.hexdigest()
