"""Issue 10: the ownership lock-out could be side-stepped by respelling the claimant or by
spreading guesses on one order number over many claimants."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from fulfilment.actors import Actor
from fulfilment.errors import OwnershipLocked
from fulfilment.services.orders import OrderInput, ingest_order
from fulfilment.services.ownership import Proof, normalise_claimant, verify_owner
from tests.factories import card_product

ORDER = "KM2026112200801"
START = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock(uow) -> Clock:  # type: ignore[no-untyped-def]
    uow.clock = Clock()
    return uow.clock


@pytest.fixture
def order(uow, clock):  # type: ignore[no-untyped-def]
    card_product(uow, keys=1)
    data = OrderInput(
        order_no=ORDER,
        sku="STEAM-50",
        quantity=1,
        amount=Decimal("50.00"),
        currency="CNY",
        buyer_email="buyer@example.com",
        buyer_telegram_id="4242",
    )
    ingest_order(uow=uow, data=data, paid=True, actor=Actor.system("test"))


def attempt(uow, claimant: str, proof: Proof, order_no: str = ORDER) -> str:  # type: ignore[no-untyped-def]
    try:
        ok = verify_owner(
            uow=uow, order_no=order_no, claimant=Actor.customer(claimant), proof=proof
        )
    except OwnershipLocked as exc:
        return exc.code
    return "ok" if ok else "wrong"


@pytest.mark.parametrize(
    "spelling",
    [
        "TG:666",
        "tg:666 ",
        "tg:\t666",
        " tg:666\n",
        "ｔｇ:６６６",
        "tg:6\u200b66",
        "tg:\u202e666",
        "tg:666\u0301",
    ],
)
def test_a_locked_out_claimant_gets_no_fresh_guesses_by_respelling_its_id(uow, order, spelling):
    for n in range(uow.policy.ownership_max_failures):
        assert (
            attempt(uow, "tg:666", Proof(email="x@example.com"), f"KM20261122{n:05d}") == "wrong"
        )
    assert normalise_claimant(spelling) == "tg:666"
    assert attempt(uow, spelling, Proof(email="buyer@example.com")) == "ownership_locked"


def guess_from_twenty_claimants(uow, order_no: str = ORDER) -> list[str]:  # type: ignore[no-untyped-def]
    return [
        attempt(uow, f"web:{order_no}-{c}", Proof(phone=f"1380013{c:02d}{g:02d}"), order_no)
        for c in range(20)
        for g in range(uow.policy.ownership_max_failures)
    ]


def test_guesses_on_one_order_from_many_claimants_are_checked_only_up_to_the_limit(uow, order):
    answers = guess_from_twenty_claimants(uow)
    limit = uow.policy.ownership_order_max_failures
    assert answers.count("wrong") == limit  # checked; the other 90 were refused unchecked
    assert answers.count("order_throttled") == len(answers) - limit


def test_a_number_that_is_no_order_is_throttled_exactly_like_a_real_one(uow, order):
    assert guess_from_twenty_claimants(uow, "KM2026112299999") == guess_from_twenty_claimants(uow)


def test_while_guessed_the_owner_passes_on_telegram_and_typed_proofs_slow_to_one_per_period(
    uow, order, clock
):
    guess_from_twenty_claimants(uow)
    right_email = Proof(email="buyer@example.com")
    # The buyer's own Telegram identity is never throttled ...
    assert attempt(uow, "tg:4242", Proof(telegram_id="4242")) == "ok"
    assert attempt(uow, "TG:4242 ", Proof(telegram_id="4242")) == "ok"
    # ... but only that id is checked: a typed email riding along with another id is not.
    assert attempt(uow, "tg:999", Proof(telegram_id="999", email="buyer@example.com")) == "wrong"
    assert attempt(uow, "web:owner", Proof(telegram_id="4242")) == "order_throttled"
    # Typed proofs: one is checked per throttle period, the rest wait unchecked.
    assert attempt(uow, "web:owner", right_email) == "order_throttled"
    clock.now += timedelta(seconds=uow.policy.ownership_order_throttle_seconds)
    assert attempt(uow, "web:guesser-a", Proof(email="guess@example.com")) == "wrong"
    assert attempt(uow, "web:owner", right_email) == "order_throttled"
    clock.now += timedelta(seconds=uow.policy.ownership_order_throttle_seconds)
    assert attempt(uow, "web:owner", right_email) == "ok"
    # When the window has passed, the order number is no longer throttled.
    clock.now += timedelta(minutes=uow.policy.ownership_window_minutes)
    assert attempt(uow, "web:someone", Proof(email="guess@example.com")) == "wrong"
    assert attempt(uow, "web:owner-again", right_email) == "ok"


def test_parallel_guesses_on_one_order_from_many_claimants_stop_at_the_limit(uow, order):
    def guess(n: int) -> str:
        return attempt(uow.fork(), f"web:burst-{n}", Proof(email=f"guess{n}@example.com"))

    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(guess, range(32)))
    assert answers.count("wrong") == uow.policy.ownership_order_max_failures
    assert answers.count("order_throttled") == 32 - uow.policy.ownership_order_max_failures
