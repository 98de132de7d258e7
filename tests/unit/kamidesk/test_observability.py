"""Observability pieces without a server: metered adapters, log lines, redaction, wiring."""

from __future__ import annotations

import ast
import io
import json
import logging
import socket
from pathlib import Path

import httpx
import pytest
from prometheus_client import REGISTRY
from pydantic import SecretStr
from sqlalchemy import event

from fulfilment.keyvault import KeyVault
from fulfilment.ports import RefundOutcome, RefundResult, SupplierOutcome
from fulfilment.suppliers.http import HttpSupplierClient
from kamidesk import wiring
from kamidesk.bootstrap import build
from kamidesk.events import EventBus
from kamidesk.jobs import DELIVER_JOB
from kamidesk.observability import Operations
from kamidesk.observability.logs import (
    ConsoleLines,
    ContextFilter,
    JsonLines,
    Redactor,
    log_context,
    secrets_of,
)
from kamidesk.observability.metrics import MeteredPayments, MeteredSupplier, _collect
from kamidesk.settings import Settings, SupplierEndpoint
from tests.containers import RecordingJobs
from tests.fakes import FakePayments, FakeSupplier

ROOT = Path(__file__).resolve().parents[3]


def _sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def _http_supplier(handler) -> HttpSupplierClient:  # type: ignore[no-untyped-def]
    return HttpSupplierClient(
        code="sup-metered",
        base_url="http://supplier.test/s/sup-metered",
        merchant_id="m1",
        secret="s3cret",
        client=httpx.Client(transport=httpx.MockTransport(handler)),
    )


def _submit(client) -> object:  # type: ignore[no-untyped-def]
    return client.submit_topup(
        request_ref="R1", product_code="CM10", account="13800138000", amount_cents=1000
    )


def test_supplier_calls_are_counted_by_supplier_operation_and_the_ports_outcome():
    def accept(_: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"code": "0000", "data": {"status": "processing"}})

    def time_out(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    labels = {"supplier": "sup-metered", "operation": "submit"}
    before = {
        outcome: _sample("kamidesk_supplier_calls_total", **labels, outcome=outcome)
        for outcome in ("accepted", "unknown")
    }
    timed = _sample("kamidesk_supplier_call_duration_seconds_count", **labels)
    assert _submit(MeteredSupplier(_http_supplier(accept))).outcome == SupplierOutcome.ACCEPTED
    assert _submit(MeteredSupplier(_http_supplier(time_out))).outcome == SupplierOutcome.UNKNOWN
    for outcome in ("accepted", "unknown"):
        counted = _sample("kamidesk_supplier_calls_total", **labels, outcome=outcome)
        assert counted - before[outcome] == 1
    assert _sample("kamidesk_supplier_call_duration_seconds_count", **labels) - timed == 2


def test_a_supplier_adapter_that_raises_is_counted_as_an_error_and_still_raises():
    class Broken(FakeSupplier):
        def query_topup(self, *, request_ref: str):  # type: ignore[no-untyped-def]
            raise RuntimeError("bug")

    labels = {"supplier": "sup-broken", "operation": "query", "outcome": "error"}
    before = _sample("kamidesk_supplier_calls_total", **labels)
    with pytest.raises(RuntimeError):
        MeteredSupplier(Broken("sup-broken")).query_topup(request_ref="R1")
    assert _sample("kamidesk_supplier_calls_total", **labels) - before == 1


def test_a_metered_supplier_behaves_as_the_one_it_wraps():
    inner = FakeSupplier("sup-same")
    metered = MeteredSupplier(inner)
    assert metered.code == "sup-same"
    metered.check_key(product_code="P", key="KEY-1234")
    assert inner.calls == [("check", "1234")]
    assert metered.received is inner.received  # other attributes pass through


def test_payment_calls_are_counted_by_operation_and_outcome():
    payments = FakePayments()
    payments.refund_answers.append(RefundResult(RefundOutcome.UNKNOWN))
    labels = {"operation": "refund", "outcome": "unknown"}
    before = _sample("kamidesk_payment_calls_total", **labels)
    answer = MeteredPayments(payments).refund(
        refund_ref="RF1", txn_id="T1", amount_cents=100, currency="CNY"
    )
    assert answer.outcome == RefundOutcome.UNKNOWN and payments.refund_calls == ["RF1"]
    assert _sample("kamidesk_payment_calls_total", **labels) - before == 1


def test_the_wiring_meters_every_supplier_the_provider_and_the_commits(tmp_path):
    settings = Settings(
        _env_file=None,
        demo_mode=True,
        database_url=f"sqlite:///{tmp_path / 'k.db'}",
        key_encryption_key=SecretStr(KeyVault.generate_key()),
        payment_secret=SecretStr("pay-secret"),
        suppliers=[
            SupplierEndpoint(code="sup-a", base_url="http://a", merchant_id="m", secret="s1")
        ],
    )
    box = build(settings)
    try:
        assert isinstance(box.suppliers.get("sup-a"), MeteredSupplier)
        assert isinstance(box.payments, MeteredPayments)
        assert event.contains(box.session_factory, "after_flush", _collect)
    finally:
        box.close()


# -- logs ------------------------------------------------------------------------------------


def _record(message: str, *args: object) -> logging.LogRecord:
    record = logging.LogRecord("kamidesk.test", logging.INFO, __file__, 1, message, args, None)
    ContextFilter().filter(record)
    return record


def test_a_json_line_carries_the_context_and_leaves_out_what_is_absent():
    with log_context(request_id="req-1", order_no="KM1"):
        inside = json.loads(JsonLines(Redactor()).format(_record("hello %s", "there")))
    outside = json.loads(JsonLines(Redactor()).format(_record("bye")))
    assert inside["message"] == "hello there" and inside["level"] == "INFO"
    assert (inside["request_id"], inside["order_no"], inside["logger"]) == (
        "req-1",
        "KM1",
        "kamidesk.test",
    )
    assert inside["time"].endswith("+00:00")
    assert "request_id" not in outside and "order_no" not in outside


def test_the_console_line_is_readable_and_shows_the_context_only_when_there_is_one():
    with log_context(order_no="KM1"):
        line = ConsoleLines(Redactor()).format(_record("delivered"))
    assert line.endswith("INFO kamidesk.test [order=KM1] delivered")
    assert ConsoleLines(Redactor()).format(_record("idle")).endswith("kamidesk.test idle")


def test_secrets_are_blanked_raw_and_json_escaped_but_short_strings_are_left_alone():
    redact = Redactor(["tok-12345678", 'pa"ss\\word-9', "short"])
    assert redact("a tok-12345678 b") == "a *** b"
    assert redact(json.dumps({"m": 'pa"ss\\word-9'})) == '{"m": "***"}'
    assert redact("a short word") == "a short word"


def test_every_configured_secret_is_known_to_the_redactor():
    settings = Settings(
        _env_file=None,
        database_url="postgresql+psycopg://kamidesk:db-pass-123@db/kamidesk",
        redis_url="redis://:redis-pass-456@redis:6379/0",
        staff_api_token=SecretStr("staff-token-789"),
        metrics_token=SecretStr("metrics-token-0"),
        suppliers=[
            SupplierEndpoint(code="a", base_url="http://a", merchant_id="m", secret="sup-secret-1")
        ],
    )
    found = set(secrets_of(settings))
    expected = {"db-pass-123", "redis-pass-456", "staff-token-789", "metrics-token-0"}
    assert expected | {"sup-secret-1"} <= found


def test_a_job_on_an_order_logs_with_its_order_number(monkeypatch):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(ContextFilter())
    handler.setFormatter(JsonLines(Redactor()))
    logger = logging.getLogger("kamidesk.test.job")
    logger.addHandler(handler)

    def deliver_order(*, uow, order_no, actor):  # type: ignore[no-untyped-def]
        logger.warning("working")

    monkeypatch.setattr(wiring, "deliver_order", deliver_order)

    class Box:  # what the core's task registration needs of a container
        jobs = RecordingJobs(inline=())
        bus = EventBus(lambda: None)  # type: ignore[arg-type, return-value]

        def uow(self) -> None:
            return None

    box = Box()
    wiring.register_tasks(box)  # type: ignore[arg-type]
    try:
        box.jobs.tasks.fn(DELIVER_JOB)("KM2026112200001")
    finally:
        logger.removeHandler(handler)
    assert json.loads(stream.getvalue())["order_no"] == "KM2026112200001"


# -- the metrics listener and the import rule --------------------------------------------------


def test_a_separate_metrics_port_serves_the_metrics_and_closes_on_stop(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = Settings(
        _env_file=None,
        demo_mode=True,
        database_url=f"sqlite:///{tmp_path / 'k.db'}",
        key_encryption_key=SecretStr(KeyVault.generate_key()),
        metrics_port=port,
    )
    from kamidesk.db import upgrade

    upgrade(settings.database_url)
    box = build(settings)
    ops = Operations(box)
    ops.start()
    try:
        scraped = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5)
        assert scraped.status_code == 200
        assert 'kamidesk_backlog{kind="orders"} 0.0' in scraped.text
    finally:
        ops.stop()
        box.close()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2)


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_the_cores_import_no_metrics_or_logging_framework():
    forbidden = {"prometheus_client", "pythonjsonlogger", "structlog", "kamidesk"}
    offenders = {
        str(path.relative_to(ROOT)): sorted(_imports(path) & forbidden)
        for package in ("fulfilment", "nlu", "knowledge_base")
        for path in (ROOT / package).rglob("*.py")
        if _imports(path) & forbidden
    }
    assert offenders == {}


@pytest.mark.parametrize("module", ["kamidesk.jobs", "kamidesk.worker", "kamidesk.observability"])
def test_each_wiring_module_imports_on_its_own(module):
    # kamidesk.jobs and kamidesk.observability use each other: no import cycle may bite.
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", f"import {module}"], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
