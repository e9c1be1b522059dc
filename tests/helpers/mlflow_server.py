"""A local ``mlflow server`` on any backend store URI, for tests that track over HTTP."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

SERVER_START_TIMEOUT = 60.0


def free_port() -> int:
    """A local TCP port nothing listens on now (bound, read, released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_command(backend_store_uri: str, artifacts: Path, port: int) -> list[str]:
    """The ``mlflow server`` command line: runs, models and the registry in the backend store,
    artifacts proxied by the server (``mlflow-artifacts:/``) into ``artifacts``. No
    ``--allowed-hosts`` is needed: MLflow 3's default host check lets localhost and 127.0.0.1 in.
    """
    return [
        *(sys.executable, "-m", "mlflow", "server"),
        *("--backend-store-uri", backend_store_uri),
        *("--artifacts-destination", str(artifacts)),
        *("--host", "127.0.0.1", "--port", str(port), "--workers", "1"),
    ]


@dataclass
class MlflowServer:
    uri: str
    artifacts: Path  # the server's --artifacts-destination
    log: Path
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        """Terminate the server's process group (mlflow, uvicorn); idempotent."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=20)
        # What is left of the group (uvicorn outliving `mlflow server`, or a hung server).
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


def answers(url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status == 200
    except (OSError, urllib.error.URLError):
        return False


def start_mlflow_server(
    backend_store_uri: str,
    folder: Path,
    timeout: float = SERVER_START_TIMEOUT,
    port: int | None = None,
) -> MlflowServer:
    """Start ``mlflow server`` on ``backend_store_uri`` (sqlite:///..., postgresql://...) in its
    own process group, with artifacts under ``folder/artifacts`` and its log in
    ``folder/server.log``, on ``port`` (default: a free one); return once ``GET /health``
    answers 200. The caller stops it
    (:meth:`MlflowServer.stop`); a server that does not come up is stopped here and fails the
    test with its log.
    """
    folder.mkdir(parents=True, exist_ok=True)
    artifacts = folder / "artifacts"
    port = port or free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    env.pop("PYTHONPATH", None)  # the server needs mlflow, not this project
    # No GenAI job runner (an extra process and a /dev/shm folder): nothing here uses jobs.
    env["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] = "false"
    log = folder / "server.log"
    with log.open("ab") as out:  # a restarted server's log goes on
        process = subprocess.Popen(
            server_command(backend_store_uri, artifacts, port),
            cwd=folder,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stop() ends uvicorn too
        )
    server = MlflowServer(f"http://127.0.0.1:{port}", artifacts, log, process)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if answers(f"{server.uri}/health"):
            return server
        if process.poll() is not None:
            break
        time.sleep(0.5)
    server.stop()
    state = "exited" if process.returncode is not None else f"no /health within {timeout:g} s"
    pytest.fail(f"mlflow server {state}:\n{server.log_tail()}")


def start_scoring_server(
    model_uri: str, folder: Path, env: dict[str, str], timeout: float = SERVER_START_TIMEOUT
) -> MlflowServer:
    """``mlflow models serve`` of ``model_uri`` in this environment (``--env-manager local``), in
    its own process group, log in ``folder/serve.log``; return once ``GET /ping`` answers 200.
    ``env``: the environment it runs in (``MLFLOW_TRACKING_URI`` for a ``models:/`` URI)."""
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = folder / "serve.log"
    command = [
        *(sys.executable, "-m", "mlflow", "models", "serve", "-m", model_uri),
        *("--env-manager", "local", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"),
    ]
    with log.open("ab") as out:
        process = subprocess.Popen(
            command,
            cwd=folder,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = MlflowServer(f"http://127.0.0.1:{port}", folder, log, process)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if answers(f"{server.uri}/ping"):
            return server
        if process.poll() is not None:
            break
        time.sleep(0.5)
    server.stop()
    state = "exited" if process.returncode is not None else f"no /ping within {timeout:g} s"
    pytest.fail(f"mlflow models serve {state}:\n{server.log_tail()}")
