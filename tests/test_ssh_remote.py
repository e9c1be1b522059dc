"""DVC push/pull over a real SSH remote: a private sshd on 127.0.0.1, reached through dvc-ssh.

Clone A runs the first stages and pushes its outputs and its run-cache; in clone B, cloned from
git without dvc.lock, `dvc repro --pull` restores those stages from the remote's run-cache instead
of running them. Skipped where sshd, ssh-keygen or the dvc_ssh module is missing, or where sshd
cannot start here (the reason says why).
"""

from __future__ import annotations

import filecmp
import importlib.util
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import pytest
import yaml
from helpers.mlflow_server import free_port
from helpers.news import custom_datasets
from helpers.params import tiny_params
from helpers.repo import make_repo, run, stages_run

pytestmark = pytest.mark.slow

# The first stages of one dataset: each has only cached outputs, so each is run-cached (a stage
# with any `cache: false` output, train or audit, never is).
TARGET = "split@alpha"
CHAIN = ("download@alpha", "prepare@alpha", "split@alpha")
OUTS = ("data/raw/alpha", "data/prepared/alpha", "data/split/alpha")
SBIN = ("/usr/sbin", "/usr/local/sbin", "/sbin")
START_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class SSHServer:
    port: int
    user: str
    client_key: Path

    def url(self, path: Path) -> str:
        return f"ssh://{self.user}@127.0.0.1:{self.port}{path}"


def skip(reason: str) -> NoReturn:
    print(f"skipping the SSH remote test: {reason}")
    pytest.skip(reason)


def keygen(ssh_keygen: str, path: Path) -> None:
    result = subprocess.run(
        [ssh_keygen, "-q", "-t", "ed25519", "-N", "", "-C", "", "-f", str(path)],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        skip(f"ssh-keygen failed: {result.stderr.strip()}")


def sshd_config(folder: Path, port: int, user: str) -> Path:
    config = folder / "sshd_config"
    config.write_text(
        "\n".join(
            [
                f"ListenAddress 127.0.0.1:{port}",
                f"HostKey {folder / 'host_key'}",
                f"PidFile {folder / 'sshd.pid'}",
                f"AuthorizedKeysFile {folder / 'authorized_keys'}",
                f"AllowUsers {user}",
                # tmp folders are group- or world-writable on some machines.
                "StrictModes no",
                "PubkeyAuthentication yes",
                "AuthenticationMethods publickey",
                "PasswordAuthentication no",
                "KbdInteractiveAuthentication no",
                "PermitRootLogin prohibit-password",
                "UsePAM no",
                "UseDNS no",
                "PrintMotd no",
                "X11Forwarding no",
                # dvc-ssh speaks SFTP only; the built-in server needs no sftp-server binary.
                "Subsystem sftp internal-sftp",
                "LogLevel VERBOSE",
                "",
            ]
        )
    )
    return config


def check_config(sshd: str, config: Path) -> None:
    """`sshd -t`; creates a missing privilege separation folder (/run/sshd, made by the
    service's unit at boot, not by the package) when running as root."""
    for _ in range(2):
        result = subprocess.run([sshd, "-t", "-f", str(config)], capture_output=True, text=True)
        if result.returncode == 0:
            return
        missing = re.search(r"Missing privilege separation directory: (\S+)", result.stderr)
        if not missing or os.geteuid() != 0:
            break
        try:
            os.makedirs(missing.group(1), mode=0o755, exist_ok=True)
        except OSError as exc:
            skip(f"cannot create sshd's privilege separation folder: {exc}")
    skip(f"sshd rejects its config: {result.stderr.strip()}")


def wait_ready(proc: subprocess.Popen[bytes], port: int, log: Path) -> str | None:
    """None once the server sends its SSH banner, else why it did not (bounded)."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return f"sshd exited with {proc.returncode}: {log.read_text().strip()}"
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                if sock.recv(64).startswith(b"SSH-"):
                    return None
        except OSError:
            time.sleep(0.1)
    return f"sshd not accepting after {START_TIMEOUT_S:.0f} s: {log.read_text().strip()}"


def stop(proc: subprocess.Popen[bytes]) -> None:
    """The server and its per-connection children (one process group, started here)."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.fixture
def ssh_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SSHServer]:
    """A private sshd on 127.0.0.1 (a free port) that lets this user in with a key made here.

    HOME points at a folder here whose .ssh/known_hosts trusts the server's host key: dvc-ssh
    has no host-key option, and asyncssh reads ~/.ssh/known_hosts (and ~/.ssh/config). run() passes
    HOME on (stage_env copies the environment)."""
    if importlib.util.find_spec("dvc_ssh") is None:
        skip("the dvc_ssh module is missing (pip install dvc-ssh)")
    sshd = shutil.which("sshd") or shutil.which("sshd", path=os.pathsep.join(SBIN))
    if sshd is None:
        skip("sshd is missing (apt-get install openssh-server)")
    ssh_keygen = shutil.which("ssh-keygen")
    if ssh_keygen is None:
        skip("ssh-keygen is missing (apt-get install openssh-client)")
    sshd = os.path.abspath(sshd)  # sshd re-executes itself: it needs an absolute path

    folder = tmp_path / "sshd"
    folder.mkdir()
    keygen(ssh_keygen, folder / "host_key")
    keygen(ssh_keygen, folder / "client_key")
    shutil.copy(folder / "client_key.pub", folder / "authorized_keys")
    user = pwd.getpwuid(os.getuid()).pw_name
    host_key = " ".join((folder / "host_key.pub").read_text().split()[:2])

    reason = "no attempt"
    for _ in range(3):  # another process may take the free port before sshd binds it
        port = free_port()
        config = sshd_config(folder, port, user)
        check_config(sshd, config)
        log = folder / "sshd.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [sshd, "-D", "-e", "-f", str(config)],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            reason = wait_ready(proc, port, log)
            if reason is None:
                home = tmp_path / "home"
                (home / ".ssh").mkdir(parents=True, mode=0o700)
                (home / ".ssh" / "known_hosts").write_text(f"[127.0.0.1]:{port} {host_key}\n")
                monkeypatch.setenv("HOME", str(home))
                yield SSHServer(port=port, user=user, client_key=folder / "client_key")
                return
        finally:
            stop(proc)
        if "Address already in use" not in reason:
            break
    skip(f"sshd could not start: {reason}")


def files(root: Path, folder: str) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in (root / folder).rglob("*") if p.is_file())


def lock_entries(repo: Path) -> dict[str, Any]:
    stages = yaml.safe_load((repo / "dvc.lock").read_text())["stages"]
    return {name: stages[name] for name in CHAIN}


def test_run_cache_over_ssh(tmp_path: Path, ssh_server: SSHServer):
    # The real params, shrunk: one generated dataset, the baseline alone.
    params = tiny_params(custom_datasets("alpha"), ["tfidf_logreg"])
    a = make_repo(tmp_path / "a", params)
    remote = tmp_path / "remote"

    # The remote's URL is shared through git; the key stays in each clone's config.local.
    run(a, "dvc", "remote", "add", "-d", "storage", ssh_server.url(remote))
    run(a, "dvc", "remote", "modify", "--local", "storage", "keyfile", str(ssh_server.client_key))
    run(a, "git", "add", ".dvc/config")
    run(a, "git", "commit", "-q", "-m", "ssh remote")
    assert stages_run(run(a, "dvc", "repro", TARGET)) == set(CHAIN)
    run(a, "dvc", "push", "--run-cache")
    assert (remote / "runs").is_dir() and (remote / "files" / "md5").is_dir()

    # Clone B: the code and the remote, no dvc.lock (never committed) and no outputs. The
    # hand-placed CSV is git-ignored, so it is placed again (the same file).
    b = tmp_path / "b"
    run(tmp_path, "git", "clone", "-q", str(a), str(b))
    assert not (b / "dvc.lock").exists()
    shutil.copytree(a / "data" / "external", b / "data" / "external", dirs_exist_ok=True)
    run(b, "dvc", "remote", "modify", "--local", "storage", "keyfile", str(ssh_server.client_key))

    # `--pull` fetches the run-cache from the default remote, then each restored stage's
    # outputs. (`dvc fetch --run-cache` alone brings the run entries but no outputs, so a plain
    # `dvc repro` after it runs the stages; `dvc pull --run-cache` fails in a clone without
    # dvc.lock: it cannot check out outputs that have no hash.)
    output = run(b, "dvc", "repro", "--pull", TARGET)
    assert stages_run(output) == set()
    for stage in CHAIN:
        assert f"Stage '{stage}' is cached - skipping run, checking out outputs" in output
    for folder in OUTS:
        names = files(a, folder)
        assert names and names == files(b, folder)
        _, mismatch, errors = filecmp.cmpfiles(a, b, names, shallow=False)
        assert not mismatch and not errors, (mismatch, errors)
    assert lock_entries(b) == lock_entries(a)
