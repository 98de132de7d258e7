"""Proof that a person owns an order, with limits on guessing.

An order number alone proves nothing. A claimant (a Telegram user, a web-chat session) proves
ownership by a contact that matches the order: the buyer's Telegram id, email, or phone. Two
limits count failed proofs over `Policy.ownership_window_minutes`:

1. Per claimant: `ownership_max_failures` failures lock the claimant out, whatever order
   numbers they try. Claimant ids are normalised first (`normalise_claimant`: Unicode NFKC,
   case folded, whitespace, control, format - zero-width, bidi - and combining characters
   dropped), so `TG:X`, `tg:X `, `tg:<tab>X`, full-width `ｔｇ:X` or `tg:<zero-width space>X`
   are all the claimant `tg:x` and share its count.
2. Per order number: a guesser can open a new claimant per guess (a web chat each), so failures
   are also counted per order number, from every claimant. Once `ownership_order_max_failures`
   failed in the window, the order number is throttled:
   - a typed proof (an email, a phone, or a Telegram id typed by someone who is not that
     Telegram user) is checked at most once per `ownership_order_throttle_seconds` on that
     order number; any other is refused unchecked (`OwnershipLocked`, code `order_throttled`),
     so it teaches the guesser nothing, counts against its claimant, and does not delay the
     next checked try. Guessing slows to one try per period (60 an hour by default);
   - the buyer's own Telegram identity is never throttled: the claimant `tg:<id>` proving with
     that same id is checked as usual (the channel vouches for the id and nobody picks their
     own), but only that id: an email or phone riding along is ignored while throttled.
   So guessers cannot lock the real owner out: on Telegram the owner passes at once, on the
   web within a throttle period (or an agent verifies them).
A non-existent order number fails, counts and throttles exactly like a real one, so the answers
never tell a guesser which order numbers exist. The chatbot adds per-IP and per-session limits.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select

from fulfilment import repository as repo
from fulfilment.actors import Actor
from fulfilment.errors import InvalidRequest, OwnershipLocked
from fulfilment.events import KeysRevealed, OwnershipProofFailed
from fulfilment.models import CardKey, DeliveryStatus, Order, OwnershipAttempt
from fulfilment.uow import UnitOfWork

MAX_CLAIMANT = 80  # a claimant's id, normalised (ownership_attempts.claimant holds 120)
TELEGRAM = "tg:"


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


def normalise_claimant(claimant: str) -> str:
    """One spelling per claimant: NFKC, case folded, no whitespace, control, format (zero-width,
    bidi) or combining characters (`" TG:\u200b42\t"` -> `"tg:42"`)."""
    text = unicodedata.normalize("NFKC", claimant)
    return "".join(ch for ch in text if unicodedata.category(ch)[0] not in "CZM").casefold()


def verify_owner(*, uow: UnitOfWork, order_no: str, claimant: Actor, proof: Proof) -> bool:
    """True if `proof` matches the order; failures count per claimant and per order number."""
    who = _normalised(claimant)
    if not (proof.telegram_id or proof.email or proof.phone):
        raise InvalidRequest("a proof needs a telegram id, an email or a phone")
    guessed = order_no[:64]
    with uow:
        # One proof per claimant and per order number at a time, or a burst of parallel
        # guesses would all pass the counts below before any failure is recorded.
        repo.serialise(uow.session, f"ownership:{who.id}", f"ownership-order:{guessed}")
        _raise_if_locked(uow, who.id)
        if _order_throttled(uow, guessed):
            if not _own_telegram(who.id, proof):
                _record_failure(uow, who, guessed, throttled=True)
                uow.commit()
                raise OwnershipLocked(
                    "too many failed attempts on this order; try again later",
                    code="order_throttled",
                )
            proof = Proof(telegram_id=proof.telegram_id)  # nothing typed is checked now
        order = uow.session.scalars(select(Order).where(Order.order_no == order_no)).first()
        if order is not None and _matches(order, proof):
            return True
        _record_failure(uow, who, guessed, throttled=False)
        uow.commit()
        return False


def _normalised(claimant: Actor) -> Actor:
    """The claimant as counted and logged: its id normalised (`normalise_claimant`)."""
    who = normalise_claimant(claimant.id)
    if not who or len(who) > MAX_CLAIMANT:
        # A failure that cannot be recorded would not count against the claimant.
        raise InvalidRequest(f"claimant must be 1-{MAX_CLAIMANT} characters")
    name = claimant.name if claimant.name != claimant.id else who  # no raw spelling logged
    return Actor(claimant.kind, who, name)


def _own_telegram(claimant: str, proof: Proof) -> bool:
    """The claimant is the Telegram user whose id is the proof (the channel vouches for it)."""
    return bool(proof.telegram_id) and claimant == f"{TELEGRAM}{str(proof.telegram_id).strip()}"


def _record_failure(uow: UnitOfWork, claimant: Actor, order_no: str, *, throttled: bool) -> None:
    uow.session.add(
        OwnershipAttempt(
            claimant=claimant.id, order_no=order_no, at=uow.clock(), throttled=throttled
        )
    )
    if not throttled:  # refusals while throttled are counted, not each written to the log
        failed = OwnershipProofFailed(order_no=order_no, claimant=claimant.id)
        uow.record(failed, actor=claimant)


def _order_throttled(uow: UnitOfWork, order_no: str) -> bool:
    """Too many checked failures on this order number, the last one too recent."""
    policy = uow.policy
    now = uow.clock()
    checked = (
        OwnershipAttempt.order_no == order_no,
        OwnershipAttempt.throttled.is_(False),
        OwnershipAttempt.at >= now - timedelta(minutes=policy.ownership_window_minutes),
    )
    failures = (
        uow.session.scalar(select(func.count()).select_from(OwnershipAttempt).where(*checked)) or 0
    )
    if failures < policy.ownership_order_max_failures:
        return False
    last = uow.session.scalars(
        select(OwnershipAttempt.at).where(*checked).order_by(OwnershipAttempt.at.desc()).limit(1)
    ).one()
    return now - last < timedelta(seconds=policy.ownership_order_throttle_seconds)


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
    claimant = _normalised(claimant)
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
