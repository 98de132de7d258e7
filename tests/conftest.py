"""Shared fixtures: the fulfilment suite runs on SQLite *and* PostgreSQL.

PostgreSQL and Redis are real services. On CI (CI=true) an unreachable service fails the test;
on a developer machine without them the tests skip with the reason.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text

from fulfilment.keyvault import KeyVault
from fulfilment.models import Base, OutboxEntry
from fulfilment.uow import Policy, UnitOfWork
from kamidesk.db import make_engine, make_session_factory, upgrade
from tests.containers import make_container
from tests.fakes import FakePayments, FakeSupplierDirectory
from tests.simulators_fixture import (  # noqa: F401 - fixtures for the whole suite
    callback_sink,
    payment_sandbox,
    simulator_servers,
    supplier_sim,
)

PG_ADMIN_URL = os.environ.get(
    "KAMIDESK_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("KAMIDESK_TEST_REDIS", "redis://127.0.0.1:6379/0")
ON_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def service_unavailable(what: str, exc: BaseException) -> None:
    """Fail on CI, skip elsewhere."""
    message = f"{what} is unreachable: {exc}"
    if ON_CI:
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, migrated to head."""
    name = f"kamidesk_t_{uuid.uuid4().hex[:10]}"
    try:
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        service_unavailable("PostgreSQL", exc)
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    upgrade(url)
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tmpl") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


def _truncate_all(url: str) -> None:
    from bot.models import Base as BotBase
    from desk.models import Base as DeskBase
    from knowledge_base.models import Base as KbBase

    engine = create_engine(url)
    tables = [
        *Base.metadata.sorted_tables,
        *BotBase.metadata.sorted_tables,
        *DeskBase.metadata.sorted_tables,
        *KbBase.metadata.sorted_tables,
    ]
    names = ", ".join(f'"{t.name}"' for t in tables)
    with engine.begin() as conn:
        # TRUNCATE does not fire the audit log's row triggers; tests may reset it.
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The suite's database: a copy of a migrated SQLite file, or a clean PostgreSQL one."""
    if request.param == "sqlite":
        path = tmp_path / "kamidesk.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("pg_url")
    _truncate_all(url)
    return url


@pytest.fixture
def session_factory(db_url: str):  # type: ignore[no-untyped-def]
    engine = make_engine(db_url)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture
def vault() -> KeyVault:
    return KeyVault(KeyVault.generate_key())


@pytest.fixture
def suppliers() -> FakeSupplierDirectory:
    return FakeSupplierDirectory()


@pytest.fixture
def payments() -> FakePayments:
    return FakePayments()


@pytest.fixture
def policy() -> Policy:
    return Policy(
        supplier_poll_seconds=0, supplier_call_grace_seconds=0, refund_auto_approve_cents=100_00
    )


@pytest.fixture
def parts(session_factory, vault, suppliers, payments, policy) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """The test parts of a container: the test database and the fakes."""
    return {
        "session_factory": session_factory,
        "vault": vault,
        "suppliers": suppliers,
        "payments": payments,
        "policy": policy,
    }


@pytest.fixture
def container(parts, session_factory):  # type: ignore[no-untyped-def]
    """The system over the test database and the fakes; events dispatch at each commit."""
    box = make_container(**parts)
    yield box
    box.close()
    assert_every_event_dispatched(session_factory)


@pytest.fixture
def uow(container) -> UnitOfWork:  # type: ignore[no-untyped-def]
    return container.uow()


def assert_every_event_dispatched(session_factory) -> None:  # type: ignore[no-untyped-def]
    """A subscriber that failed during a test fails the test (its error is logged only)."""
    with session_factory() as session:
        stuck = session.execute(
            select(OutboxEntry.name, OutboxEntry.last_error).where(
                OutboxEntry.dispatched_at.is_(None), OutboxEntry.attempts > 0
            )
        ).all()
    assert not stuck, f"events whose subscribers failed: {stuck}"
