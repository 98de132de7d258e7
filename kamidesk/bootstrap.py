"""Builds the running system from settings: engine, key vault, adapters, units of work.

Nothing here runs at import time; the FastAPI lifespan, the CLI and the worker call `build`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from fulfilment.keyvault import KeyVault
from fulfilment.money import to_cents
from fulfilment.payments.http import HttpPaymentProvider
from fulfilment.suppliers.directory import StaticSupplierDirectory
from fulfilment.suppliers.http import HttpSupplierClient
from fulfilment.uow import Policy, UnitOfWork
from kamidesk.agents import AgentDirectory, StaffTokenDirectory
from kamidesk.db import make_engine, make_session_factory
from kamidesk.settings import Settings


@dataclass
class Container:
    """Everything a process needs, built once at start-up."""

    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    vault: KeyVault
    suppliers: StaticSupplierDirectory
    payments: HttpPaymentProvider
    policy: Policy
    http: httpx.Client
    agents: AgentDirectory
    _closed: bool = field(default=False, repr=False)

    def uow(self) -> UnitOfWork:
        """A fresh unit of work (one per request, job or thread)."""
        return UnitOfWork(
            self.session_factory,
            vault=self.vault,
            suppliers=self.suppliers,
            payments=self.payments,
            policy=self.policy,
        )

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self.http.close()
            self.engine.dispose()


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
    )


def build(settings: Settings) -> Container:
    """Wire the system; refuses placeholder secrets outside demo mode."""
    settings.check_production_ready()
    engine = make_engine(settings.database_url)
    http = httpx.Client()
    clients = [
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
        )
        for s in settings.suppliers
    ]
    payments = HttpPaymentProvider(
        base_url=settings.payment_base_url,
        merchant_id=settings.payment_merchant_id,
        secret=settings.payment_secret.get_secret_value(),
        timeout=settings.supplier_timeout_seconds,
        client=http,
    )
    return Container(
        settings=settings,
        engine=engine,
        session_factory=make_session_factory(engine),
        vault=KeyVault(settings.key_encryption_key.get_secret_value()),
        suppliers=StaticSupplierDirectory(clients),
        payments=payments,
        policy=policy_from(settings),
        http=http,
        agents=StaffTokenDirectory(settings.staff_api_token),
    )
