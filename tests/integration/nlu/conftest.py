"""A real Rasa server for the `rasa`-marked tests.

The server runs from the environment `make rasa-train` builds outside the repository
(~/.cache/kamidesk/rasa, or $KAMIDESK_RASA_HOME). On CI (CI=true) a missing environment or model
fails the tests; on a developer machine it skips them with the reason. Set
KAMIDESK_TEST_RASA_URL (and KAMIDESK_TEST_RASA_TOKEN) to use a server that is already running.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[3]
SCRIPT = ROOT / "scripts" / "rasa.sh"
ON_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
STARTUP_SECONDS = 240


@dataclass(frozen=True)
class RasaServer:
    url: str
    token: str


def _unavailable(reason: str) -> None:
    if ON_CI:
        pytest.fail(f"Rasa is required on CI: {reason} (run `make rasa-train` first)")
    pytest.skip(f"no Rasa environment: {reason}; run `make rasa-train` to enable these tests")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_up(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:]
            pytest.fail(f"Rasa exited with {proc.returncode} while starting:\n{tail}")
        try:
            if httpx.get(f"{url}/", timeout=2.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(1.0)
    pytest.fail(f"Rasa did not come up within {STARTUP_SECONDS}s (log: {log})")


@pytest.fixture(scope="session")
def rasa_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RasaServer]:
    if os.environ.get("KAMIDESK_TEST_RASA_URL"):
        yield RasaServer(
            os.environ["KAMIDESK_TEST_RASA_URL"].rstrip("/"),
            os.environ.get("KAMIDESK_TEST_RASA_TOKEN", ""),
        )
        return
    found = subprocess.run(["bash", str(SCRIPT), "model"], capture_output=True, text=True)
    if found.returncode != 0:
        _unavailable("no trained Rasa model for the current data")
    port, token = _free_port(), "test-" + os.urandom(8).hex()
    env = {**os.environ, "RASA_PORT": str(port), "RASA_HOST": "127.0.0.1", "RASA_TOKEN": token}
    log = tmp_path_factory.mktemp("rasa") / "rasa.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            ["bash", str(SCRIPT), "serve"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so teardown stops all of it
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url, proc, log)
        yield RasaServer(url, token)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
