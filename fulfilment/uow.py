"""The unit of work: one database transaction plus the ports a use case may call.

`with uow:` opens a session; leaving the block without `uow.commit()` rolls back. A use case
that must talk to a supplier or the payment provider enters the unit of work more than once —
persist the intent, call out *outside* any transaction, record the result — so that no row lock
is held across the network and a crash between the steps leaves a row the sweeper resumes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType

from sqlalchemy.orm import Session, sessionmaker

from fulfilment.keyvault import KeyVault
from fulfilment.models import utcnow
from fulfilment.ports import PaymentProvider, SupplierDirectory


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
    ) -> None:
        self._session_factory = session_factory
        self.vault = vault
        self._suppliers = suppliers
        self._payments = payments
        self.policy = policy or Policy()
        self.clock = clock
        self._session: Session | None = None

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
        )

    def commit(self) -> None:
        """Commit the transaction (once, at the end of a use case step)."""
        self.session.commit()
