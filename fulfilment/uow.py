"""The unit of work: one database transaction plus the ports a use case may call.

`with uow:` opens a session; leaving the block without `uow.commit()` rolls back. A use case
that must talk to a supplier or the payment provider enters the unit of work more than once —
persist the intent, call out *outside* any transaction, record the result — so that no row lock
is held across the network and a crash between the steps leaves a row the sweeper resumes.

Events: `uow.record(event, actor=actor)` inside the block; `commit()` writes each event's audit
entry and an outbox row in the same transaction, commits, then hands the new outbox ids to the
`on_commit` hook (the wiring's: it asks the job runner to dispatch them). Leaving the block
without committing drops the recorded events with the rest. Other packages (`bot`, `desk`)
record their own `Event` subclasses on the same unit of work and use its `session` for their
own tables, so everything commits together.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from types import TracebackType

from sqlalchemy.orm import Session, sessionmaker

from fulfilment.actors import Actor
from fulfilment.events.base import Event
from fulfilment.keyvault import KeyVault
from fulfilment.models import AuditEntry, OutboxEntry, utcnow
from fulfilment.ports import PaymentProvider, SupplierDirectory

log = logging.getLogger(__name__)

OnCommit = Callable[[Sequence[int]], None]


@dataclass(frozen=True)
class Policy:
    """Business limits the shop tunes (filled from settings by the wiring)."""

    reissue_max_per_order: int = 2
    reissue_max_per_customer: int = 5
    reissue_customer_window_days: int = 30
    reissue_without_check: bool = False
    refund_auto_approve_cents: int = 10_000
    supplier_poll_seconds: float = 5.0
    # How long an in-flight supplier call is left alone before another worker queries it.
    supplier_call_grace_seconds: float = 15.0
    supplier_max_transient_retries: int = 8
    ownership_max_failures: int = 5
    ownership_window_minutes: int = 15
    # Failed proofs on one order number (any claimant) in the window before typed proofs on it
    # are slowed to one per `ownership_order_throttle_seconds` (see `services.ownership`).
    ownership_order_max_failures: int = 10
    ownership_order_throttle_seconds: int = 60
    # A key the supplier reports redeemed within this many seconds of its delivery (either
    # side) is ambiguous: supplier times are whole seconds and clocks drift. A person decides.
    key_redemption_ambiguity_seconds: int = 60


class UnitOfWork:
    """A transaction scope; reusable (enter it again for the next step of a saga)."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        *,
        vault: KeyVault,
        suppliers: SupplierDirectory | None = None,
        payments: PaymentProvider | None = None,
        policy: Policy | None = None,
        clock: Callable[[], datetime] = utcnow,
        on_commit: OnCommit | None = None,
    ) -> None:
        self._session_factory = session_factory
        self.vault = vault
        self._suppliers = suppliers
        self._payments = payments
        self.policy = policy or Policy()
        self.clock = clock
        self._on_commit = on_commit
        self._session: Session | None = None
        self._events: list[Event] = []

    @property
    def session(self) -> Session:
        if self._session is None:
            raise RuntimeError("unit of work used outside `with uow:`")
        return self._session

    @property
    def suppliers(self) -> SupplierDirectory:
        if self._suppliers is None:
            raise RuntimeError("no supplier directory configured")
        return self._suppliers

    @property
    def payments(self) -> PaymentProvider:
        if self._payments is None:
            raise RuntimeError("no payment provider configured")
        return self._payments

    @property
    def dialect(self) -> str:
        return self.session.get_bind().dialect.name

    def __enter__(self) -> UnitOfWork:
        if self._session is not None:
            raise RuntimeError("unit of work is already open")
        self._session = self._session_factory()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        session, self._session = self._session, None
        self._events.clear()  # not committed: they did not happen
        if session is not None:
            # close() rolls back anything uncommitted but, unlike rollback(), leaves the
            # loaded objects readable (detached) for the outcome the caller returns.
            session.close()

    def fork(self) -> UnitOfWork:
        """A new unit of work with the same collaborators (one per thread or task)."""
        return UnitOfWork(
            self._session_factory,
            vault=self.vault,
            suppliers=self._suppliers,
            payments=self._payments,
            policy=self.policy,
            clock=self.clock,
            on_commit=self._on_commit,
        )

    def record(self, event: Event, *, actor: Actor) -> None:
        """Record what happened; it is written (audit log, outbox) by the next `commit()`."""
        if self._session is None:
            raise RuntimeError("unit of work used outside `with uow:`")
        event.to_payload()  # refuse a payload that is not plain JSON now, not at commit
        self._events.append(replace(event, actor=actor))

    def commit(self) -> None:
        """Commit the transaction with its events, then hand their outbox ids to `on_commit`."""
        session = self.session
        rows = [self._write(session, event) for event in self._events]
        if rows:
            session.flush()
        ids = [row.id for row in rows]
        session.commit()
        self._events.clear()
        if ids and self._on_commit is not None:
            try:
                self._on_commit(ids)
            except Exception as exc:
                # Committed is committed: the outbox rows stay undispatched for the sweep. The
                # message is left out of the log (it might carry customer data).
                log.error(
                    "on_commit hook failed (%s); %d event(s) left for the sweep",
                    type(exc).__name__,
                    len(ids),
                )

    @staticmethod
    def _write(session: Session, event: Event) -> OutboxEntry:
        actor = event.actor
        assert actor is not None  # set by record()
        entry = event.audit()
        if entry is not None:
            session.add(
                AuditEntry(
                    actor=actor.label,
                    actor_kind=actor.kind,
                    actor_name=actor.name,
                    action=entry.action,
                    entity=entry.entity,
                    entity_id=str(entry.entity_id),
                    before=entry.before,
                    after=entry.after,
                    reason=entry.reason,
                )
            )
        row = OutboxEntry(
            event_id=event.event_id,
            name=event.name,
            payload=event.to_payload(),
            actor=actor.label,
            actor_kind=actor.kind,
            actor_name=actor.name,
            handled=[],
            attempts=0,
        )
        session.add(row)
        return row
