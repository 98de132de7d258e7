"""Builds the running system from settings: one container with every part.

    box = build(settings)                                   # production, the CLI, the worker
    box = build(settings, session_factory=..., suppliers=FakeSupplierDirectory(), jobs=...)

Parts: the engine and session factory, the key vault, suppliers, the payment provider, the
policy, the clock, the event bus with the core's and the chatbot's subscribers, the job runner
with their tasks, the agent directory, the NLU parser, the knowledge base and the chatbot.
Overrides replace parts (tests, the demo, later the desk's agent directory). The NLU parser,
the knowledge base and the chatbot are built on first use (the app's start-up asks for them),
so a CLI command or a worker that needs none of them does not pay for them. Nothing here runs
at import time.

Errors:

    TypeError      an override that names no part
    RuntimeError   a placeholder secret outside demo mode (`Settings.check_production_ready`)
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import httpx
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from fulfilment.keyvault import KeyVault
from fulfilment.models import utcnow
from fulfilment.money import to_cents
from fulfilment.payments.http import HttpPaymentProvider
from fulfilment.ports import PaymentProvider, SupplierDirectory
from fulfilment.suppliers.directory import StaticSupplierDirectory
from fulfilment.suppliers.http import HttpSupplierClient
from fulfilment.uow import Policy, UnitOfWork
from kamidesk.agents import AgentDirectory, StaffTokenDirectory
from kamidesk.db import make_engine, make_session_factory
from kamidesk.events import EventBus
from kamidesk.jobs import Jobs, make_jobs
from kamidesk.observability.metrics import MeteredPayments, MeteredSupplier, count_commits
from kamidesk.settings import Settings
from kamidesk.wiring import core_subscriptions, dispatch_committed, register_tasks

if TYPE_CHECKING:  # imported when built: they load models and tokenizers
    from bot.engine import DialogueEngine
    from knowledge_base import KnowledgeBaseService
    from nlu import NLUConfig, Parser

PARTS = (
    "engine",
    "session_factory",
    "vault",
    "suppliers",
    "payments",
    "policy",
    "clock",
    "jobs",
    "agents",
    "nlu",
    "kb",
    "bot",
    "http",
)


@dataclass
class Container:
    """Everything a process needs, built once at start-up."""

    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    vault: KeyVault
    suppliers: SupplierDirectory
    payments: PaymentProvider
    policy: Policy
    clock: Callable[[], datetime]
    jobs: Jobs
    agents: AgentDirectory
    http: httpx.Client | None = None
    bus: EventBus = field(init=False)
    nlu_factory: Callable[[], Parser] | None = field(repr=False, default=None)
    kb_factory: Callable[[], KnowledgeBaseService] | None = field(repr=False, default=None)
    bot_factory: Callable[[], DialogueEngine] | None = field(repr=False, default=None)
    _owned: Sequence[Callable[[], None]] = field(default=(), repr=False)
    _closed: bool = field(default=False, repr=False)
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    _nlu: Parser | None = field(default=None, repr=False)
    _kb: KnowledgeBaseService | None = field(default=None, repr=False)
    _bot: DialogueEngine | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.bus = EventBus(self.uow, clock=self.clock)

    def uow(self) -> UnitOfWork:
        """A fresh unit of work (one per request, job or thread); commits dispatch events."""
        return UnitOfWork(
            self.session_factory,
            vault=self.vault,
            suppliers=self.suppliers,
            payments=self.payments,
            policy=self.policy,
            clock=self.clock,
            on_commit=lambda ids: dispatch_committed(self, ids),
        )

    @property
    def nlu(self) -> Parser:
        """The NLU parser (embedded, or the Rasa client), configured from the settings."""
        with self._lock:
            if self._nlu is None:
                if self.nlu_factory is not None:
                    self._nlu = self.nlu_factory()
                else:
                    from nlu import build_parser

                    self._nlu = build_parser(nlu_config(self.settings))
            return self._nlu

    @property
    def kb(self) -> KnowledgeBaseService:
        """The knowledge base with its feedback tables."""
        with self._lock:
            if self._kb is None:
                if self.kb_factory is not None:
                    self._kb = self.kb_factory()
                else:
                    from knowledge_base import KnowledgeBase, KnowledgeBaseService

                    self._kb = KnowledgeBaseService(KnowledgeBase(), self.session_factory)
            return self._kb

    @property
    def bot(self) -> DialogueEngine:
        """The chatbot's dialogue engine, shared by every channel of this process."""
        with self._lock:
            if self._bot is None:
                if self.bot_factory is not None:
                    self._bot = self.bot_factory()
                else:
                    from kamidesk.chatbot import build_chatbot

                    self._bot = build_chatbot(self)
            return self._bot

    def close(self) -> None:
        """Release what this container built (not the parts it was given)."""
        if not self._closed:
            self._closed = True
            for release in reversed(self._owned):
                release()


def policy_from(settings: Settings) -> Policy:
    """The business policy part of the settings."""
    return Policy(
        reissue_max_per_order=settings.reissue_max_per_order,
        reissue_max_per_customer=settings.reissue_max_per_customer,
        reissue_customer_window_days=settings.reissue_customer_window_days,
        reissue_without_check=settings.reissue_without_check,
        refund_auto_approve_cents=to_cents(settings.refund_auto_approve_limit),
        supplier_poll_seconds=settings.supplier_poll_seconds,
        supplier_call_grace_seconds=max(3 * settings.supplier_timeout_seconds, 1.0),
        supplier_max_transient_retries=settings.supplier_max_transient_retries,
        ownership_max_failures=settings.ownership_max_failures,
        ownership_window_minutes=settings.ownership_window_minutes,
        ownership_order_max_failures=settings.ownership_order_max_failures,
        ownership_order_throttle_seconds=settings.ownership_order_throttle_seconds,
        key_redemption_ambiguity_seconds=settings.key_redemption_ambiguity_seconds,
    )


def nlu_config(settings: Settings) -> NLUConfig:
    """The nlu package's config from kamidesk's settings (the only place they meet)."""
    from nlu import NLUConfig

    token = settings.rasa_token.get_secret_value() if settings.rasa_token else None
    extra: dict[str, Any] = {}
    if settings.nlu_cache_dir is not None:
        extra["cache_dir"] = settings.nlu_cache_dir
    return NLUConfig(
        order_id_patterns=tuple(settings.nlu_order_id_patterns),
        fallback_threshold=settings.nlu_fallback_threshold,
        disambiguation_margin=settings.nlu_disambiguation_margin,
        rasa_url=settings.rasa_url,
        rasa_token=token,
        rasa_fallback_to_embedded=settings.nlu_rasa_fallback,
        **extra,
    )


def build(settings: Settings, **overrides: Any) -> Container:
    """Wire the system; refuses placeholder secrets outside demo mode."""
    unknown = set(overrides) - set(PARTS)
    if unknown:
        raise TypeError(f"unknown part(s) {sorted(unknown)}; parts are {', '.join(PARTS)}")
    settings.check_production_ready()
    owned: list[Callable[[], None]] = []
    session_factory = overrides.get("session_factory")
    engine = overrides.get("engine") or (session_factory.kw["bind"] if session_factory else None)
    if engine is None:
        engine = make_engine(settings.database_url)
        owned.append(engine.dispose)
    http = overrides.get("http")
    if http is None and not ("suppliers" in overrides and "payments" in overrides):
        http = httpx.Client()
        owned.append(http.close)
    kb = overrides.get("kb")
    nlu = overrides.get("nlu")
    bot = overrides.get("bot")
    session_factory = session_factory or make_session_factory(engine)
    count_commits(session_factory)  # deliveries and failed ownership proofs, for /metrics
    box = Container(
        settings=settings,
        engine=engine,
        session_factory=session_factory,
        vault=overrides.get("vault") or KeyVault(settings.key_encryption_key.get_secret_value()),
        suppliers=overrides.get("suppliers") or _suppliers(settings, http),
        payments=overrides.get("payments") or _payments(settings, http),
        policy=overrides.get("policy") or policy_from(settings),
        clock=overrides.get("clock") or utcnow,
        jobs=overrides.get("jobs") or make_jobs(_Settings(settings)),
        agents=overrides.get("agents") or StaffTokenDirectory(settings.staff_api_token),
        http=http,
        nlu_factory=(lambda: nlu) if nlu is not None else None,
        kb_factory=(lambda: kb) if kb is not None else None,
        bot_factory=(lambda: bot) if bot is not None else None,
        _owned=owned,
    )
    register_tasks(box)
    box.bus.register(core_subscriptions(box))
    from kamidesk.chatbot import register_chatbot  # the bot's modules load on demand

    register_chatbot(box)
    return box


@dataclass(frozen=True)
class _Settings:
    settings: Settings


def _suppliers(settings: Settings, http: httpx.Client | None) -> StaticSupplierDirectory:
    # Calls to suppliers and the provider are counted and timed at these edges (/metrics).
    return StaticSupplierDirectory(
        [
            MeteredSupplier(
                HttpSupplierClient(
                    code=s.code,
                    base_url=s.base_url,
                    merchant_id=s.merchant_id,
                    secret=s.secret.get_secret_value(),
                    sign_type=s.sign_type,
                    notify_url=f"{settings.public_base_url}/api/v1/callbacks/supplier/{s.code}",
                    timeout=settings.supplier_timeout_seconds,
                    supports_key_check=s.supports_key_check,
                    client=http,
                    callback_max_age=settings.callback_max_age_seconds,
                )
            )
            for s in settings.suppliers
        ]
    )


def _payments(settings: Settings, http: httpx.Client | None) -> MeteredPayments:
    return MeteredPayments(
        HttpPaymentProvider(
            base_url=settings.payment_base_url,
            merchant_id=settings.payment_merchant_id,
            secret=settings.payment_secret.get_secret_value(),
            timeout=settings.supplier_timeout_seconds,
            client=http,
            callback_max_age=settings.callback_max_age_seconds,
        )
    )
