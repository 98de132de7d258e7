"""`kamidesk demo`: its files go under --var, and its ports can be moved (issue 10, item 9)."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from kamidesk.cli import app

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """The demo sets up console logging for the process; put the test run's back."""
    names = ("", "uvicorn", "uvicorn.error", "uvicorn.access", "arq", "alembic", "httpx")
    saved = [
        (lg, list(lg.handlers), lg.propagate, lg.level) for lg in map(logging.getLogger, names)
    ]
    yield
    for logger, handlers, propagate, level in saved:
        logger.handlers[:], logger.propagate, logger.level = handlers, propagate, level


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port something else is listening on."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield int(holder.getsockname()[1])


def _demo(*args: str) -> list[str]:
    return ["demo", "--seed-only", "--port", str(_free_port()), *args]


def test_the_demo_keeps_its_secrets_under_var_and_runs_beside_another_on_other_ports(
    tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    var = tmp_path / "elsewhere"
    ports = ["--supplier-port", "0", "--payment-port", "0"]
    result = CliRunner().invoke(app, _demo("--var", str(var), *ports))
    assert result.exit_code == 0, result.output
    assert (var / "demo.env").is_file()
    assert not (tmp_path / "var").exists()
    assert f"secrets live in {var / 'demo.env'}" in result.output
    assert "KM2026112200008" in result.output  # the whole shop was seeded


@pytest.mark.parametrize("option", ["--supplier-port", "--payment-port", "--port"])
def test_a_busy_port_stops_the_demo_with_a_message_naming_it(tmp_path, busy_port, option):
    args = ["--var", str(tmp_path), "--supplier-port", "0", "--payment-port", "0"]
    result = CliRunner().invoke(app, [*_demo(*args), option, str(busy_port)])
    assert result.exit_code == 1, result.output
    assert f"port {busy_port}" in result.output and option in result.output
    assert not (tmp_path / "demo.db").exists()  # stopped before doing anything
