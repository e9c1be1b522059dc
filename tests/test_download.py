from __future__ import annotations

import hashlib
import http.server
import io
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from fakenews import sources
from fakenews.core.errors import DownloadError
from fakenews.pipeline.download import download_dataset, http_session, safe_extract
from fakenews.sources.base import Archive, RemoteFile, Source
from fakenews.sources.options import DatasetConfig

SOURCES = sources.LOADED  # where made-up sources are registered

FILES = {
    "train.csv": b"id,text,label\n1,hello,fake\n",
    "sub/test.csv": b"id,text,label\n2,x,real\n",
}


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return buffer.getvalue()


@pytest.fixture
def demo_source(monkeypatch: pytest.MonkeyPatch) -> Source:
    source = Source(
        name="demo",
        title="demo",
        homepage="",
        files=tuple(RemoteFile(p, url=None, sha256=_sha(d)) for p, d in FILES.items()),
    )
    monkeypatch.setitem(SOURCES, "demo", source)
    return source


class _Server:
    """A loopback HTTP server serving fixed bytes per path; can fail the first N requests."""

    def __init__(self, routes: dict[str, bytes], fail_first: int = 0) -> None:
        self.routes, self.fail_first, self.requests = routes, fail_first, 0
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.requests += 1
                if outer.requests <= outer.fail_first:
                    self.send_response(503)
                    self.end_headers()
                    return
                body = outer.routes.get(self.path)
                self.send_response(200 if body is not None else 404)
                self.end_headers()
                if body is not None:
                    self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()


@pytest.fixture
def server() -> Iterator[type[_Server]]:
    started: list[_Server] = []

    def make(routes: dict[str, bytes], fail_first: int = 0) -> _Server:
        started.append(_Server(routes, fail_first))
        return started[-1]

    yield make  # type: ignore[misc]
    for s in started:
        s.close()


def _write_tree(root: Path, files: dict[str, bytes]) -> None:
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)


def test_mirror_files_are_copied_and_verified(tmp_path: Path, demo_source: Source) -> None:
    mirror = tmp_path / "mirror"
    _write_tree(mirror / "demo", FILES)
    raw = tmp_path / "repo" / "data" / "raw" / "mine"
    origin = download_dataset(
        "mine", DatasetConfig(source="demo"), raw, root=tmp_path / "repo", mirror=mirror
    )
    assert "mirror" in origin
    assert {p.relative_to(raw).as_posix(): p.read_bytes() for p in raw.rglob("*.csv")} == FILES


def test_hand_placed_files_are_used(tmp_path: Path, demo_source: Source) -> None:
    _write_tree(tmp_path / "data" / "external" / "demo", FILES)
    raw = tmp_path / "data" / "raw" / "demo"
    origin = download_dataset("demo", DatasetConfig(), raw, root=tmp_path, mirror=None)
    assert "external" in origin and (raw / "sub" / "test.csv").is_file()


def test_checksum_mismatch_names_dataset_and_file_and_keeps_old_data(
    tmp_path: Path, demo_source: Source
) -> None:
    mirror = tmp_path / "mirror"
    _write_tree(mirror / "demo", {**FILES, "sub/test.csv": b"tampered"})
    raw = tmp_path / "data" / "raw" / "demo"
    _write_tree(raw, {"previous.txt": b"keep me"})
    with pytest.raises(DownloadError) as error:
        download_dataset("demo", DatasetConfig(), raw, root=tmp_path, mirror=mirror)
    message = str(error.value)
    assert "'demo'" in message and "sub/test.csv" in message and "checksum mismatch" in message
    # Nothing partial: the earlier folder is untouched and no temporary folder is left.
    assert [p.name for p in raw.iterdir()] == ["previous.txt"]
    assert [p.name for p in raw.parent.iterdir()] == ["demo"]


def test_archive_download_with_retry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, server
) -> None:
    srv = server({"/data.zip": _zip({f"top/{k}": v for k, v in FILES.items()})}, fail_first=1)
    source = Source(
        name="zipped",
        title="zipped",
        homepage="",
        archive=Archive(url=f"{srv.url}/data.zip", strip_prefix="top/"),
        files=tuple(RemoteFile(p, sha256=_sha(d)) for p, d in FILES.items()),
    )
    monkeypatch.setitem(SOURCES, "zipped", source)
    raw = tmp_path / "data" / "raw" / "zipped"
    session = http_session(retries=2)
    download_dataset("zipped", DatasetConfig(), raw, root=tmp_path, mirror=None, session=session)
    assert (raw / "train.csv").read_bytes() == FILES["train.csv"]
    assert srv.requests == 2  # the 503 was retried


def test_per_file_download_and_http_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, server
) -> None:
    srv = server({"/train.csv": FILES["train.csv"]})
    source = Source(
        name="web",
        title="web",
        homepage="",
        files=(
            RemoteFile("train.csv", url=f"{srv.url}/train.csv", sha256=_sha(FILES["train.csv"])),
            RemoteFile("gone.csv", url=f"{srv.url}/gone.csv", sha256=_sha(b"")),
        ),
    )
    monkeypatch.setitem(SOURCES, "web", source)
    raw = tmp_path / "data" / "raw" / "web"
    with pytest.raises(DownloadError) as error:
        download_dataset("web", DatasetConfig(), raw, root=tmp_path, mirror=None)
    assert "HTTP 404" in str(error.value) and "/gone.csv" in str(error.value)
    assert not raw.exists()


def test_no_network_gives_one_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, demo_source: Source
) -> None:
    # Port 9 on loopback: nothing listens, so the connection is refused at once.
    url = "http://127.0.0.1:9/train.csv"
    source = Source(name="offline", title="", homepage="", files=(RemoteFile("a.csv", url=url),))
    monkeypatch.setitem(SOURCES, "offline", source)
    with pytest.raises(DownloadError) as error:
        download_dataset(
            "offline",
            DatasetConfig(),
            tmp_path / "raw",
            root=tmp_path,
            mirror=None,
            session=http_session(retries=0),
        )
    message = str(error.value)
    assert "'offline'" in message and url in message and "FAKENEWS_DATA_MIRROR" in message


def test_manual_source_explains_how_to_place_files(tmp_path: Path) -> None:
    with pytest.raises(DownloadError) as error:
        download_dataset("isot", DatasetConfig(), tmp_path / "raw", root=tmp_path, mirror=None)
    message = str(error.value)
    assert "kaggle" in message.lower() and "data/external/isot" in message


def test_zip_entry_escaping_its_folder_is_refused(tmp_path: Path) -> None:
    archive = tmp_path / "evil.zip"
    archive.write_bytes(_zip({"ok.txt": b"fine", "../../evil.txt": b"gotcha"}))
    with pytest.raises(DownloadError, match="escapes"):
        safe_extract(archive, {"ok.txt": tmp_path / "out" / "ok.txt"})
    assert not (tmp_path.parent / "evil.txt").exists()
    assert not (tmp_path / "out").exists()


def test_custom_file_checksum(tmp_path: Path) -> None:
    data = b"body,verdict\nx,FAKE\n"
    (tmp_path / "data" / "external" / "mine").mkdir(parents=True)
    (tmp_path / "data" / "external" / "mine" / "mine.csv").write_bytes(data)
    options = DatasetConfig(
        source="custom",
        path="data/external/mine/mine.csv",
        text_column="body",
        label_column="verdict",
        label_map={"FAKE": 1, "TRUE": 0},
        sha256=_sha(b"other"),
    )
    with pytest.raises(DownloadError) as error:
        download_dataset("mine", options, tmp_path / "raw", root=tmp_path, mirror=None)
    message = str(error.value)
    # The user's own file changed: the advice is to update the checksum or restore the file.
    assert f"set datasets.mine.sha256: {_sha(data)}" in message and "download" not in message
    assert not (tmp_path / "raw").exists()
    ok = options.model_copy(update={"sha256": _sha(data)})
    download_dataset("mine", ok, tmp_path / "raw", root=tmp_path, mirror=None)
    assert (tmp_path / "raw" / "mine.csv").read_bytes() == data


def test_registry_entries_are_complete() -> None:
    required = {
        "isot",
        "welfake",
        "fake_or_real_news",
        "fakenewsnet",
        "fakenewsnet_v1",
        "liar",
        "constraint",
        "custom",
    }
    registry = sources.all_sources()
    assert required <= set(registry)
    for name, source in registry.items():
        if name == sources.CUSTOM:
            continue
        assert source.files, name
        for spec in source.files:
            assert spec.sha256 or spec.md5, (name, spec.path)
            assert spec.url or source.archive or source.manual, (name, spec.path)
            assert (spec.url or "https://").startswith("https://"), (name, spec.url)
    assert len(registry["fakenewsnet_v1"].files) == 425


def test_incomplete_mirror_names_the_missing_file(
    tmp_path: Path, demo_source: Source, caplog: pytest.LogCaptureFixture
) -> None:
    mirror = tmp_path / "mirror"
    _write_tree(mirror / "demo", {k: v for k, v in FILES.items() if k != "sub/test.csv"})
    raw = tmp_path / "data" / "raw" / "demo"
    with caplog.at_level("WARNING"), pytest.raises(DownloadError, match="no URL"):
        download_dataset("demo", DatasetConfig(), raw, root=tmp_path, mirror=mirror)
    assert f"{mirror / 'demo'} lacks sub/test.csv ({len(FILES) - 1} of {len(FILES)}" in caplog.text


def test_mirror_without_the_source_folder_says_so(tmp_path: Path) -> None:
    (tmp_path / "mirror").mkdir()
    with pytest.raises(DownloadError) as error:
        download_dataset(
            "isot", DatasetConfig(), tmp_path / "raw", root=tmp_path, mirror=tmp_path / "mirror"
        )
    assert "Fake.csv" in str(error.value) and "no folder isot/" in str(error.value)


def test_mirror_that_does_not_exist_is_an_error(tmp_path: Path, demo_source: Source) -> None:
    with pytest.raises(DownloadError) as error:
        download_dataset(
            "demo", DatasetConfig(), tmp_path / "raw", root=tmp_path, mirror=tmp_path / "nowhere"
        )
    message = str(error.value)
    assert f"FAKENEWS_DATA_MIRROR={tmp_path / 'nowhere'} is not a folder" in message
    assert not (tmp_path / "raw").exists()
