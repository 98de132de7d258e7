"""Operations through the app: health, readiness, metrics and logs (issue 10, observability)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr
from sqlalchemy import create_engine, text

from fulfilment.actors import Actor
from fulfilment.services.ownership import Proof, reveal_keys
from kamidesk.app import create_app
from kamidesk.observability import configure_logging
from kamidesk.observability.metrics import count_commits
from tests.e2e.conftest import SHOP, STAFF
from tests.e2e.test_shop_api import ORDER, PRODUCT

METRICS_TOKEN = "metrics-token-for-tests"
KEYS = ["AAAA-BBBB-CCCC-0001", "AAAA-BBBB-CCCC-0002"]


@pytest.fixture
def ops_client(container, jobs) -> Iterator[TestClient]:
    """The app with METRICS_TOKEN set and the commit counters the wiring installs."""
    container.settings = container.settings.model_copy(
        update={"metrics_token": SecretStr(METRICS_TOKEN)}
    )
    count_commits(container.session_factory)
    app = create_app(container=container)  # its runner is the `jobs` fixture
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def shop(ops_client, suppliers):
    suppliers.add("sup-a")
    ops_client.post("/api/v1/suppliers", json={"code": "sup-a", "name": "A"}, headers=SHOP)
    assert ops_client.post("/api/v1/products", json=PRODUCT, headers=SHOP).status_code == 201
    keys = {"keys": KEYS, "supplier_code": "sup-a"}
    assert ops_client.post("/api/v1/products/STEAM-50/keys", json=keys, headers=SHOP).is_success
    return ops_client


def _scrape(client: TestClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def _value(samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


# -- health and readiness --------------------------------------------------------------------


def test_healthz_says_the_process_is_up(ops_client):
    assert ops_client.get("/healthz").json() == {"status": "ok"}


def test_readyz_checks_the_database_and_its_migrations(ops_client):
    ready = ops_client.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json() == {
        "status": "ready",
        "checks": {"database": "ok", "migrations": "ok", "redis": "not configured"},
    }


def test_readyz_is_503_naming_the_database_when_it_cannot_be_reached(ops_client):
    readiness = ops_client.app.state.ops.readiness
    good = readiness.engine
    readiness.engine = create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")
    try:
        answer = ops_client.get("/readyz")
    finally:
        readiness.engine.dispose()
        readiness.engine = good
    assert answer.status_code == 503
    body = answer.json()
    assert body["error"] == "not_ready"
    assert body["checks"]["database"] == "unreachable (OperationalError)"
    assert body["detail"].startswith("database: unreachable")
    assert "nobody" not in answer.text  # the exception's message (user, host) is not shown


def test_readyz_is_503_when_the_schema_is_behind_this_code(ops_client, container):
    engine = container.session_factory.kw["bind"]
    with engine.begin() as conn:
        heads = [row[0] for row in conn.execute(text("SELECT version_num FROM alembic_version"))]
        conn.execute(text("DELETE FROM alembic_version WHERE version_num = :v"), {"v": heads[0]})
    try:
        answer = ops_client.get("/readyz")
    finally:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO alembic_version VALUES (:v)"), {"v": heads[0]})
    assert answer.status_code == 503
    assert answer.json()["checks"]["migrations"].startswith("not current")
    assert heads[0] in answer.json()["detail"] and "kamidesk db upgrade" in answer.json()["detail"]


# -- metrics ---------------------------------------------------------------------------------


def test_metrics_need_the_metrics_token_and_are_hidden_without_one(ops_client, container):
    assert ops_client.get("/metrics").status_code == 401
    wrong = ops_client.get("/metrics", headers={"Authorization": "Bearer not-the-token"})
    assert wrong.status_code == 401 and wrong.json()["error"] == "unauthorized"
    assert ops_client.get("/metrics", headers=STAFF).status_code == 401  # not the staff token
    assert "/metrics" not in ops_client.get("/openapi.json").json()["paths"]
    ops = ops_client.app.state.ops
    ops.settings = container.settings.model_copy(update={"metrics_token": None})
    hidden = ops_client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert hidden.status_code == 404  # METRICS_TOKEN unset: not served on the API port


def test_requests_are_counted_by_route_template_and_status_with_latency(shop):
    before = _scrape(shop)
    shop.post("/api/v1/orders", json=ORDER, headers=SHOP)
    shop.get(f"/api/v1/orders/{ORDER['order_no']}", headers=SHOP)
    shop.get("/api/v1/orders/KM-NOPE-404", headers=SHOP)
    shop.get("/no/such/path/KM2026112200017")
    after = _scrape(shop)

    def grew(name: str, **labels: str) -> float:
        return _value(after, name, **labels) - _value(before, name, **labels)

    total = "kamidesk_http_requests_total"
    assert grew(total, method="POST", route="/api/v1/orders", status="201") == 1
    assert grew(total, method="GET", route="/api/v1/orders/{order_no}", status="200") == 1
    assert grew(total, method="GET", route="/api/v1/orders/{order_no}", status="404") == 1
    assert grew(total, method="GET", route="unmatched", status="404") == 1
    latency = "kamidesk_http_request_duration_seconds_count"
    assert grew(latency, method="GET", route="/api/v1/orders/{order_no}") == 2
    assert not any("KM2026112200017" in str(labels) for _, labels in after)


def test_deliveries_ownership_failures_and_backlog_are_measured(shop, container):
    before = _scrape(shop)
    assert shop.post("/api/v1/orders", json=ORDER, headers=SHOP).status_code == 201
    waiting = _scrape(shop)
    assert _value(waiting, "kamidesk_backlog", kind="orders") == 1
    assert _value(waiting, "kamidesk_backlog_oldest_seconds", kind="orders") >= 0
    assert shop.post(f"/api/v1/orders/{ORDER['order_no']}/deliver", headers=STAFF).is_success
    wrong = Proof(email="someone-else@example.com")
    assert (
        reveal_keys(
            uow=container.uow(),
            order_no=ORDER["order_no"],
            claimant=Actor.customer("tg:1"),
            proof=wrong,
        )
        is None
    )
    after = _scrape(shop)
    delivered = "kamidesk_deliveries_total"
    assert (
        _value(after, delivered, kind="card_key") - _value(before, delivered, kind="card_key") == 1
    )
    failures = "kamidesk_ownership_failures_total"
    growth = _value(after, failures, reason="wrong_proof") - _value(
        before, failures, reason="wrong_proof"
    )
    assert growth == 1
    assert _value(after, "kamidesk_backlog", kind="orders") == 0


def test_a_delivery_rolled_back_is_not_counted(shop, container):
    from fulfilment.models import Delivery, Order

    before = _scrape(shop)
    shop.post("/api/v1/orders", json=ORDER, headers=SHOP)
    with container.session_factory() as session:
        order = session.query(Order).one()
        session.add(Delivery(order_id=order.id, unit_no=1, supplier_order_id=None))
        session.flush()
        session.rollback()
    after = _scrape(shop)
    delivered = "kamidesk_deliveries_total"
    assert _value(after, delivered, kind="topup") == _value(before, delivered, kind="topup")


# -- logs ------------------------------------------------------------------------------------


@pytest.fixture
def log_lines(container) -> Iterator[io.StringIO]:
    """JSON logs as production writes them, captured; the logging setup is restored after."""
    root = logging.getLogger()
    names = ("uvicorn", "uvicorn.error", "uvicorn.access", "arq", "httpx", "httpcore")
    saved = (list(root.handlers), root.level)
    loggers = [logging.getLogger(name) for name in names]
    others = [(lg, list(lg.handlers), lg.propagate, lg.level) for lg in loggers]
    stream = io.StringIO()
    handler = configure_logging(container.settings, fmt="json", stream=stream)
    root.setLevel(logging.DEBUG)
    yield stream
    root.removeHandler(handler)
    root.handlers[:], root.level = saved
    for logger, handlers, propagate, level in others:
        logger.handlers[:], logger.propagate, logger.level = handlers, propagate, level


def _lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_each_log_line_is_json_with_the_request_id_and_order_number(shop, log_lines):
    headers = {**SHOP, "X-Request-ID": "req-from-the-shop-1"}
    created = shop.post("/api/v1/orders", json=ORDER, headers=headers)
    assert created.headers["X-Request-ID"] == "req-from-the-shop-1"
    got = shop.get(f"/api/v1/orders/{ORDER['order_no']}", headers=SHOP)
    made_up = got.headers["X-Request-ID"]
    assert len(made_up) == 32 and made_up != "req-from-the-shop-1"
    lines = _lines(log_lines)
    requests = [line for line in lines if line["logger"] == "kamidesk.http"]
    assert [(r["route"], r["status"], r["request_id"], r["order_no"]) for r in requests] == [
        ("/api/v1/orders", 201, "req-from-the-shop-1", ORDER["order_no"]),
        ("/api/v1/orders/{order_no}", 200, made_up, ORDER["order_no"]),
    ]
    assert all({"time", "level", "logger", "message"} <= set(line) for line in lines)


def test_a_request_id_that_is_not_a_plain_token_is_replaced(shop):
    for given in ("x" * 65, "a b", "semi;colon", "<script>"):
        answer = shop.get("/healthz", headers={"X-Request-ID": given})
        assert len(answer.headers["X-Request-ID"]) == 32
    answer = shop.get("/healthz", headers={"X-Request-ID": "ünïcode".encode()})
    assert len(answer.headers["X-Request-ID"]) == 32


def test_no_key_token_or_password_reaches_the_logs(shop, container, log_lines):
    shop.post("/api/v1/orders", json=ORDER, headers=SHOP)
    shop.post(f"/api/v1/orders/{ORDER['order_no']}/deliver", headers=STAFF)
    revealed = reveal_keys(
        uow=container.uow(),
        order_no=ORDER["order_no"],
        claimant=Actor.customer("tg:1"),
        proof=Proof(email=ORDER["buyer_email"]),
    )
    assert revealed and revealed[0].key in KEYS
    shop.get("/api/v1/alerts", headers={"Authorization": "Bearer wrong-token-abcdef"})
    settings = container.settings
    # Even a careless log call cannot print a configured secret.
    logging.getLogger("kamidesk.test").warning(
        "debugging %s %s", settings.staff_api_token.get_secret_value(), settings.shop_api_token
    )
    written = log_lines.getvalue()
    assert "kamidesk.test" in written and "***" in written
    for secret in (
        *KEYS,
        settings.staff_api_token.get_secret_value(),
        settings.shop_api_token.get_secret_value(),
    ):
        assert secret not in written


def test_a_scrape_keeps_its_other_metrics_when_the_database_does_not_answer(shop):
    from sqlalchemy.orm import sessionmaker

    backlog = shop.app.state.ops.backlog
    good = backlog._sessions
    dead = create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")
    backlog._sessions = sessionmaker(bind=dead)
    try:
        samples = _scrape(shop)
    finally:
        backlog._sessions = good
        dead.dispose()
    assert _value(samples, "kamidesk_backlog_readable", source="database") == 0
    assert ("kamidesk_backlog", (("kind", "orders"),)) not in samples
    assert any(name == "kamidesk_http_requests_total" for name, _ in samples)
    assert _value(_scrape(shop), "kamidesk_backlog_readable", source="database") == 1
