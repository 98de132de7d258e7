"""Proof that a person owns an order, with a limit on guessing.

An order number alone proves nothing. A claimant (a Telegram user, a web-chat session) proves
ownership by a contact that matches the order: the buyer's Telegram id, email, or phone. Every
failed proof counts against the claimant; too many in the window lock them out, whatever order
numbers they try — and a non-existent order number fails exactly like a wrong contact, so the
answer never tells a guesser which order numbers exist.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select

from fulfilment import repository as repo
from fulfilment.actors import Actor
from fulfilment.errors import InvalidRequest, OwnershipLocked
from fulfilment.events import KeysRevealed, OwnershipProofFailed
from fulfilment.models import CardKey, DeliveryStatus, Order, OwnershipAttempt
from fulfilment.uow import UnitOfWork

MAX_CLAIMANT = 80  # the claimant's id (ownership_attempts.claimant holds 120)


@dataclass(frozen=True)
class Proof:
    telegram_id: str | None = None
    email: str | None = None
    phone: str | None = None


@dataclass(frozen=True)
class RevealedKey:
    unit_no: int
    key: str


def _digits(phone: str | None) -> str:
    return re.sub(r"\D", "", phone or "")[-11:]


def _matches(order: Order, proof: Proof) -> bool:
    if proof.telegram_id and order.buyer_telegram_id == str(proof.telegram_id):
        return True
    if proof.email and order.buyer_email and order.buyer_email == proof.email.strip().lower():
        return True
    wanted = _digits(proof.phone)
    return bool(wanted) and len(wanted) >= 6 and _digits(order.buyer_phone) == wanted


def verify_owner(*, uow: UnitOfWork, order_no: str, claimant: Actor, proof: Proof) -> bool:
    """True if `proof` matches the order; failures are counted per claimant."""
    if len(claimant.id) > MAX_CLAIMANT:
        # A failure that cannot be recorded would not count against the claimant.
        raise InvalidRequest(f"claimant must be 1-{MAX_CLAIMANT} characters")
    if not (proof.telegram_id or proof.email or proof.phone):
        raise InvalidRequest("a proof needs a telegram id, an email or a phone")
    with uow:
        # One proof per claimant at a time, or a burst of parallel guesses would all pass
        # the count below before any failure is recorded.
        repo.serialise(uow.session, f"ownership:{claimant.id}")
        _raise_if_locked(uow, claimant.id)
        order = uow.session.scalars(select(Order).where(Order.order_no == order_no)).first()
        if order is not None and _matches(order, proof):
            return True
        uow.session.add(
            OwnershipAttempt(claimant=claimant.id, order_no=order_no[:64], at=uow.clock())
        )
        failed = OwnershipProofFailed(order_no=order_no[:64], claimant=claimant.id)
        uow.record(failed, actor=claimant)
        uow.commit()
        return False


def _raise_if_locked(uow: UnitOfWork, claimant: str) -> None:
    window = timedelta(minutes=uow.policy.ownership_window_minutes)
    failures = (
        uow.session.scalar(
            select(func.count())
            .select_from(OwnershipAttempt)
            .where(
                OwnershipAttempt.claimant == claimant, OwnershipAttempt.at >= uow.clock() - window
            )
        )
        or 0
    )
    if failures >= uow.policy.ownership_max_failures:
        raise OwnershipLocked("too many failed attempts; try again later")


def reveal_keys(
    *, uow: UnitOfWork, order_no: str, claimant: Actor, proof: Proof
) -> list[RevealedKey] | None:
    """The plaintext keys of an order, only for its proven owner (None if not proven)."""
    if not verify_owner(uow=uow, order_no=order_no, claimant=claimant, proof=proof):
        return None
    with uow:
        order = repo.order_by_no(uow.session, order_no)
        revealed = []
        for delivery in repo.active_deliveries(uow.session, order.id):
            if delivery.status == DeliveryStatus.ACTIVE and delivery.card_key_id:
                key = uow.session.get(CardKey, delivery.card_key_id)
                assert key is not None
                revealed.append(
                    RevealedKey(delivery.unit_no, uow.vault.decrypt(key.secret_encrypted))
                )
        shown = KeysRevealed(
            order_no=order_no, claimant=claimant.id, unit_nos=tuple(k.unit_no for k in revealed)
        )
        uow.record(shown, actor=claimant)
        uow.commit()
        return revealed
