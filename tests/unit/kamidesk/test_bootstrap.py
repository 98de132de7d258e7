"""bootstrap.build: one container with every part; overrides replace parts (no servers)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import SecretStr

from fulfilment.keyvault import KeyVault
from fulfilment.suppliers.directory import StaticSupplierDirectory
from kamidesk.agents import STAFF_AGENT, Credentials, StaffTokenDirectory
from kamidesk.bootstrap import build, nlu_config
from kamidesk.chatbot import LATE_ORDER_TASK
from kamidesk.jobs import (
    DELIVER_JOB,
    DISPATCH_JOB,
    REFUND_JOB,
    REISSUE_JOB,
    ArqJobs,
    InProcessJobs,
)
from kamidesk.observability.metrics import MeteredPayments
from kamidesk.settings import SupplierEndpoint
from nlu import RasaParser
from tests.containers import RecordingJobs, settings_for_tests
from tests.fakes import FakePayments, FakeSupplierDirectory


@pytest.fixture
def settings(tmp_path):  # type: ignore[no-untyped-def]
    return settings_for_tests(
        database_url=f"sqlite:///{tmp_path / 'k.db'}",
        key_encryption_key=SecretStr(KeyVault.generate_key()),
        suppliers=[
            SupplierEndpoint(
                code="sup-a", base_url="http://127.0.0.1:1", merchant_id="m", secret="s"
            )
        ],
    )


def test_build_makes_every_part_from_the_settings(settings):
    box = build(settings)
    try:
        assert isinstance(box.suppliers, StaticSupplierDirectory)
        assert box.suppliers.get("sup-a").code == "sup-a"
        assert isinstance(box.payments, MeteredPayments)  # counted and timed for /metrics
        assert isinstance(box.jobs, InProcessJobs)
        assert box.agents.authenticate(Credentials(bearer="staff-token-for-tests")) == STAFF_AGENT
        assert box.agents.authenticate(Credentials(bearer="shop-token-for-tests")) is None
        assert set(box.jobs.tasks.names()) == {
            DELIVER_JOB,
            REFUND_JOB,
            REISSUE_JOB,
            DISPATCH_JOB,
            LATE_ORDER_TASK,  # the chatbot's: "sorry for the wait"
        }
        names = {s.name for s in box.bus._subscriptions}
        assert names == {
            "fulfilment.trigger_delivery",
            "fulfilment.pause_low_stock",
            "fulfilment.wake_waiting",
            "fulfilment.alerts",
            "bot.notices",  # proactive messages to the customers of an order
        }
        uow = box.uow()
        assert (uow.suppliers, uow.payments, uow.policy) == (
            box.suppliers,
            box.payments,
            box.policy,
        )
        assert uow.policy.refund_auto_approve_cents == 100_00
    finally:
        box.close()
    assert box.http is not None and box.http.is_closed  # what it built, it closes


def test_overrides_replace_parts_and_are_not_closed_by_the_container(settings):
    from kamidesk.db import make_engine, make_session_factory

    engine = make_engine(settings.database_url)
    suppliers, payments, jobs = FakeSupplierDirectory(), FakePayments(), RecordingJobs()
    moment = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    box = build(
        settings,
        session_factory=make_session_factory(engine),
        suppliers=suppliers,
        payments=payments,
        jobs=jobs,
        clock=lambda: moment,
        agents=StaffTokenDirectory(SecretStr("other-token")),
    )
    uow = box.uow()
    assert (uow.suppliers, uow.payments, uow.clock()) == (suppliers, payments, moment)
    assert box.engine is engine and box.http is None  # no HTTP adapters were needed
    assert box.jobs is jobs and DELIVER_JOB in jobs.tasks.names()
    assert box.bus.clock() == moment
    assert box.agents.authenticate(Credentials(bearer="other-token")) == STAFF_AGENT
    box.close()
    with engine.connect() as conn:  # still usable: the container did not dispose of it
        assert conn.exec_driver_sql("select 1").scalar() == 1
    engine.dispose()


def test_an_override_that_names_no_part_is_refused(settings):
    with pytest.raises(TypeError, match="unknown part"):
        build(settings, supplier=FakeSupplierDirectory())


def test_placeholder_secrets_refuse_to_start_outside_demo_mode(settings):
    with pytest.raises(RuntimeError, match="placeholder"):
        build(settings.model_copy(update={"demo_mode": False}))


def test_a_redis_url_gives_the_arq_runner(settings):
    box = build(settings.model_copy(update={"redis_url": "redis://127.0.0.1:1/0"}))
    assert isinstance(box.jobs, ArqJobs)
    box.close()


def test_the_nlu_parser_comes_from_the_settings_not_the_environment(settings, monkeypatch):
    monkeypatch.setenv("RASA_URL", "http://from-the-environment:5005")
    configured = settings.model_copy(
        update={
            "rasa_url": "http://rasa.internal:5005",
            "rasa_token": SecretStr("t0ken"),
            "nlu_rasa_fallback": False,  # no embedded model to train for this test
            "nlu_fallback_threshold": 0.45,
        }
    )
    box = build(configured)
    parser = box.nlu
    assert isinstance(parser, RasaParser)
    assert parser.url == "http://rasa.internal:5005"
    assert box.nlu is parser  # built once
    config = nlu_config(configured)
    assert (config.fallback_threshold, config.rasa_token) == (0.45, "t0ken")
    assert config.order_id_patterns == tuple(configured.nlu_order_id_patterns)
    box.close()


def test_the_disambiguation_margin_comes_from_the_settings(settings):
    assert nlu_config(settings).disambiguation_margin == settings.nlu_disambiguation_margin
    wider = settings.model_copy(update={"nlu_disambiguation_margin": 0.3})
    assert nlu_config(wider).disambiguation_margin == 0.3


def test_given_nlu_and_knowledge_base_parts_are_used_as_they_are(settings):
    parser, kb = object(), object()
    box = build(settings, nlu=parser, kb=kb)
    assert box.nlu is parser and box.kb is kb
    box.close()
