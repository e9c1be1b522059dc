"""download@<dataset>: fetch a source's files, verify them, and write them atomically.

Where files come from, first match wins:
1. the offline mirror named by ``FAKENEWS_DATA_MIRROR`` (``<mirror>/<source>/<path>``),
2. files placed by hand in ``data/external/<dataset>/`` (sources behind a login),
3. upstream (the zip the source ships, or each file's URL), with retries on transient errors.
Every file is checked against the registry's checksum whichever way it came. Nothing reaches
``data/raw/<dataset>/`` unless the whole set is complete and verified.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import zipfile
from pathlib import Path, PurePosixPath

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from fakenews.core.errors import DownloadError
from fakenews.core.io import atomic_dir, md5_file, sha256_file
from fakenews.sources import CUSTOM, source_for
from fakenews.sources.base import EXTERNAL_DIR, RemoteFile, Source
from fakenews.sources.options import DatasetConfig

log = logging.getLogger(__name__)

USER_AGENT = "fakenews-benchmark/0.1 (+https://github.com/)"
TIMEOUT_S = (10, 120)


def http_session(retries: int = 4) -> requests.Session:
    """A session that retries connection errors and 429/5xx with exponential back-off."""
    retry = Retry(
        total=retries,
        backoff_factor=1.0,
        status_forcelist=(429, 500, 502, 503, 504),
        allowed_methods=frozenset({"GET", "HEAD"}),
        raise_on_status=False,
    )
    session = requests.Session()
    session.headers["User-Agent"] = USER_AGENT
    session.mount("https://", HTTPAdapter(max_retries=retry))
    session.mount("http://", HTTPAdapter(max_retries=retry))
    return session


def verify_file(dataset: str, path: Path, spec: RemoteFile, origin: str) -> None:
    """Raise DownloadError unless ``path`` matches the checksum the registry lists."""
    if spec.sha256:
        actual, expected, kind = sha256_file(path), spec.sha256, "sha256"
    elif spec.md5:
        actual, expected, kind = md5_file(path), spec.md5, "md5"
    else:
        return
    if actual != expected:
        raise DownloadError(
            f"dataset {dataset!r}: checksum mismatch for {spec.path} from {origin}: "
            f"{kind} {actual}, expected {expected}. The file is corrupt, truncated or a different "
            "release; delete it and download again (or fix the mirror). Nothing was written to "
            "data/raw/."
        )


def download_url(session: requests.Session, url: str, target: Path, dataset: str) -> None:
    """Stream ``url`` into ``target`` (a temporary path owned by the caller)."""
    try:
        with session.get(url, stream=True, timeout=TIMEOUT_S) as response:
            if response.status_code != 200:
                raise DownloadError(
                    f"dataset {dataset!r}: GET {url} answered HTTP {response.status_code}. "
                    "Check the URL in fakenews/sources/<source>.py, or download the file yourself "
                    f"and use an offline mirror ({_mirror_hint(dataset)})."
                )
            with open(target, "wb") as handle:
                for chunk in response.iter_content(chunk_size=1 << 20):
                    handle.write(chunk)
    except requests.RequestException as error:
        raise DownloadError(
            f"dataset {dataset!r}: could not download {url}: {type(error).__name__}: {error}. "
            "Check your network connection, or place the files in an offline mirror "
            f"({_mirror_hint(dataset)})."
        ) from None


def _mirror_hint(dataset: str) -> str:
    return f"set FAKENEWS_DATA_MIRROR to a folder holding {dataset}/<files>"


def safe_extract(archive: Path, members: dict[str, Path], strip_prefix: str = "") -> None:
    """Extract the named members of a zip, refusing any entry that would escape its folder.

    ``members`` maps a member's path (after ``strip_prefix``) to the file to write.
    """
    with zipfile.ZipFile(archive) as zf:
        names = {}
        for info in zf.infolist():
            member = PurePosixPath(info.filename)
            if member.is_absolute() or ".." in member.parts or info.filename.startswith("\\"):
                raise DownloadError(
                    f"archive {archive.name}: entry {info.filename!r} escapes the target folder; "
                    "refusing to extract"
                )
            name = info.filename
            if strip_prefix and name.startswith(strip_prefix):
                name = name[len(strip_prefix) :]
            if not info.is_dir():
                names[name] = info
        by_basename = {PurePosixPath(n).name: i for n, i in names.items() if "__MACOSX" not in n}
        for wanted, target in members.items():
            info = names.get(wanted) or by_basename.get(PurePosixPath(wanted).name)
            if info is None:
                raise DownloadError(
                    f"archive {archive.name}: no entry {wanted!r} (has {sorted(names)[:10]})"
                )
            target.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(info) as src, open(target, "wb") as dst:
                shutil.copyfileobj(src, dst)


def _local_copy(source: Source, folders: list[tuple[str, Path]]) -> tuple[str, Path] | None:
    """The first local folder holding every file of ``source``, if any."""
    for label, folder in folders:
        if source.files and not missing_files(source, folder):
            return label, folder
    return None


def missing_files(source: Source, folder: Path) -> list[str]:
    return [f.path for f in source.files if not (folder / f.path).is_file()]


def _incomplete_mirror(source: Source, folder: Path) -> str:
    """What the mirror's copy of ``source`` lacks, in a few words."""
    if not folder.is_dir():
        return f"it has no folder {source.name}/"
    missing = missing_files(source, folder)
    shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
    present = len(source.files) - len(missing)
    return f"{folder} lacks {shown} ({present} of {len(source.files)} files present)"


def fetch_source(
    dataset: str,
    source: Source,
    target: Path,
    *,
    mirror: Path | None,
    external: Path,
    session: requests.Session | None = None,
) -> str:
    """Fill the (empty, temporary) folder ``target`` with the verified files of ``source``.

    Returns a short description of where the files came from.
    """
    if mirror is not None and not mirror.is_dir():
        raise DownloadError(
            f"dataset {dataset!r}: FAKENEWS_DATA_MIRROR={mirror} is not a folder. Fix the path, "
            "or unset FAKENEWS_DATA_MIRROR to download from upstream."
        )
    # The mirror is laid out by source; hand-placed files go in the dataset's own folder, which
    # download@<dataset> declares as a dependency.
    folders = ([("mirror", mirror / source.name)] if mirror else []) + [("external", external)]
    local = _local_copy(source, folders)
    if local is not None:
        label, folder = local
        for spec in source.files:
            destination = target / spec.path
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(folder / spec.path, destination)
            verify_file(dataset, destination, spec, f"{label} {folder / spec.path}")
        return f"{label} {folder}"

    gap = _incomplete_mirror(source, mirror / source.name) if mirror is not None else None
    if source.manual:
        missing = missing_files(source, external)
        where = f"{external}" + (f" (nor in the mirror: {gap})" if gap else "")
        raise DownloadError(
            f"dataset {dataset!r}: files {missing} not found in {where}. {source.manual}"
        )
    if gap:
        log.warning(
            "dataset %r: mirror %s has no complete copy: %s; trying upstream", dataset, mirror, gap
        )

    session = session or http_session()
    if source.archive is not None:
        with tempfile.TemporaryDirectory() as tmp:
            archive = Path(tmp) / "archive.zip"
            download_url(session, source.archive.url, archive, dataset)
            spec = RemoteFile("archive.zip", sha256=source.archive.sha256, md5=source.archive.md5)
            verify_file(dataset, archive, spec, source.archive.url)
            try:
                safe_extract(
                    archive,
                    {f.path: target / f.path for f in source.files},
                    source.archive.strip_prefix,
                )
            except zipfile.BadZipFile:
                raise DownloadError(
                    f"dataset {dataset!r}: {source.archive.url} is not a valid zip file"
                ) from None
        for spec in source.files:
            verify_file(dataset, target / spec.path, spec, source.archive.url)
        return source.archive.url

    for spec in source.files:
        if spec.url is None:
            raise DownloadError(f"dataset {dataset!r}: no URL for {spec.path} in the registry")
        destination = target / spec.path
        destination.parent.mkdir(parents=True, exist_ok=True)
        download_url(session, spec.url, destination, dataset)
        verify_file(dataset, destination, spec, spec.url)
    return "upstream"


def fetch_custom(dataset: str, options: DatasetConfig, target: Path, root: Path) -> str:
    assert options.path is not None
    path = Path(options.path).expanduser()
    path = path if path.is_absolute() else root / path
    if not path.is_file():
        raise DownloadError(f"dataset {dataset!r}: datasets.{dataset}.path: file {path} not found")
    destination = target / path.name
    shutil.copyfile(path, destination)
    if options.sha256 and (actual := sha256_file(destination)) != options.sha256:
        # The user's own file: it changed since its checksum was written down, which may be
        # intended; nothing to download again.
        raise DownloadError(
            f"dataset {dataset!r}: {path} has sha256 {actual}, but datasets.{dataset}.sha256 is "
            f"{options.sha256}: the file changed since that checksum was recorded. If the new "
            f"file is intended, set datasets.{dataset}.sha256: {actual} (or remove the key); "
            "otherwise restore the file. Nothing was written to data/raw/."
        )
    return str(path)


def download_dataset(
    dataset: str,
    options: DatasetConfig,
    raw_dir: Path,
    *,
    root: Path,
    mirror: Path | None,
    session: requests.Session | None = None,
) -> str:
    """Write the verified raw files of ``dataset`` to ``raw_dir`` (all or nothing)."""
    source = source_for(dataset, options)
    external = root / EXTERNAL_DIR / dataset
    with atomic_dir(raw_dir) as tmp:
        if source.name == CUSTOM:
            origin = fetch_custom(dataset, options, tmp, root)
        else:
            origin = fetch_source(
                dataset, source, tmp, mirror=mirror, external=external, session=session
            )
    log.info("dataset %r: %d file(s) verified from %s", dataset, len(source.files) or 1, origin)
    return origin
