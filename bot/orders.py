"""The chatbot's door to the fulfilment core: every read and action on an order goes through a
fulfilment service, with the customer as the actor and a request id the engine derives from the
conversation and the step (so a repeated message or a double-tapped button acts once).

The engine never touches fulfilment tables itself; tests can replace this object.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fulfilment.actors import Actor
from fulfilment.errors import FulfilmentError, NotAllowed, NotFound, OwnershipLocked
from fulfilment.services import aftersales, delivery, orders, ownership, refunds, reissue
from fulfilment.services.aftersales import Eta, OrderFacts
from fulfilment.services.delivery import DeliveryOutcome
from fulfilment.services.ownership import Proof, RevealedKey
from fulfilment.services.payouts import RefundResult
from fulfilment.services.reissue import ReissueOutcome
from fulfilment.uow import UnitOfWork

__all__ = [
    "Eta",
    "FulfilmentError",
    "NotAllowed",
    "NotFound",
    "OrderDesk",
    "OrderFacts",
    "OwnershipLocked",
    "Proof",
    "ProofResult",
    "RevealedKey",
]


@dataclass(frozen=True)
class ProofResult:
    proven: bool
    locked: bool = False  # this claimant tried too often
    throttled: bool = False  # this order number had too many failed proofs: wait a minute


class OrderDesk:
    """Fulfilment services for one customer conversation at a time (thread-safe: a fresh unit
    of work per call)."""

    def __init__(self, uow_factory: Callable[[], UnitOfWork]) -> None:
        self._uow = uow_factory

    def facts(self, order_no: str) -> OrderFacts:
        """The order as its proven owner may see it (NotFound if there is none)."""
        return aftersales.order_facts(uow=self._uow(), order_no=order_no)

    def eta(self, sku: str) -> Eta:
        return aftersales.delivery_eta(uow=self._uow(), sku=sku)

    def waiting(self, order_nos: list[str]) -> list[aftersales.WaitingOrder]:
        """Which of these orders are paid and still being delivered."""
        return aftersales.waiting_orders(uow=self._uow(), order_nos=order_nos)

    def telegram_orders(self, telegram_id: str) -> list[str]:
        return aftersales.orders_of_telegram_user(uow=self._uow(), telegram_id=telegram_id)

    def prove(self, *, order_no: str, claimant: Actor, proof: Proof) -> ProofResult:
        """Check a proof of ownership; failures count against the claimant."""
        try:
            ok = ownership.verify_owner(
                uow=self._uow(), order_no=order_no, claimant=claimant, proof=proof
            )
        except OwnershipLocked as exc:
            if exc.code == "order_throttled":
                return ProofResult(False, throttled=True)
            return ProofResult(False, locked=True)
        return ProofResult(ok)

    def reveal(self, *, order_no: str, claimant: Actor, proof: Proof) -> list[RevealedKey] | None:
        """Plaintext keys, for a proven owner only (the service checks the proof again)."""
        try:
            return ownership.reveal_keys(
                uow=self._uow(), order_no=order_no, claimant=claimant, proof=proof
            )
        except OwnershipLocked:
            return None

    def reissue(
        self, *, order_no: str, request_id: str, reason: str, actor: Actor, unit_no: int | None
    ) -> ReissueOutcome:
        return reissue.reissue_key(
            uow=self._uow(),
            order_no=order_no,
            request_id=request_id,
            reason=reason,
            requested_by=actor,
            unit_no=unit_no,
        )

    def refund(self, *, order_no: str, request_id: str, reason: str, actor: Actor) -> RefundResult:
        return refunds.request_refund(
            uow=self._uow(),
            order_no=order_no,
            request_id=request_id,
            reason=reason,
            requested_by=actor,
        )

    def confirm_payment(self, *, order_no: str, actor: Actor) -> str:
        """Ask the payment provider about an order that looks unpaid; the outcome status."""
        return orders.confirm_payment(uow=self._uow(), order_no=order_no, actor=actor).status

    def advance(self, *, order_no: str, actor: Actor) -> DeliveryOutcome:
        """Deliver what is owed now (for a top-up: query the supplier, fail over if it failed)."""
        return delivery.deliver_order(uow=self._uow(), order_no=order_no, actor=actor)
