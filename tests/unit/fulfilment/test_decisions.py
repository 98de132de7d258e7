"""The after-sales decisions as tables: facts in, decision out (no database, no supplier)."""

from __future__ import annotations

import pytest

from fulfilment.decisions import (
    RefundFacts,
    ReissueFacts,
    decide_reissue,
    is_goodwill,
    key_refusal,
    needs_approval,
    refund_refusal,
)
from fulfilment.models import OrderStatus as O
from fulfilment.models import ProductKind, ReissueStatus
from fulfilment.ports import KeyCheckStatus as K

CHECKING, REISSUED = ReissueStatus.CHECKING, ReissueStatus.REISSUED
REJECTED, REVIEW = ReissueStatus.REJECTED, ReissueStatus.NEEDS_REVIEW
LIMIT = "limit_order: 2 reissues already on this order"
CUSTOMER = "limit_customer: 5 reissues for this customer in the window"

# check, bad, active, limit, override, without_check -> status, code
REISSUE_TABLE = [
    # The supplier could not answer: ask again later (unless staff override).
    (K.UNKNOWN, None, True, None, False, False, CHECKING, "check_unavailable"),
    (K.UNKNOWN, None, True, LIMIT, False, True, CHECKING, "check_unavailable"),
    (K.UNKNOWN, None, True, None, True, False, REISSUED, "override"),
    # Another request replaced the key meanwhile: nothing to replace.
    (K.INVALID, True, False, None, False, False, REJECTED, "already_replaced"),
    (K.UNKNOWN, None, False, None, True, False, REJECTED, "already_replaced"),
    # Confirmed bad: reissue, unless a limit is reached (then a person decides).
    (K.INVALID, True, True, None, False, False, REISSUED, "key_bad"),
    (K.USED, True, True, None, False, False, REISSUED, "key_bad"),  # used before delivery
    (K.INVALID, True, True, LIMIT, False, False, REVIEW, "limit_order"),
    (K.INVALID, True, True, CUSTOMER, False, False, REVIEW, "limit_customer"),
    (K.INVALID, True, True, None, True, False, REISSUED, "key_bad"),  # override, and bad
    # The supplier cannot check: policy decides; limits still apply.
    (K.UNSUPPORTED, None, True, None, False, False, REVIEW, "cannot_verify"),
    (K.UNSUPPORTED, None, True, None, False, True, REISSUED, "unchecked_policy"),
    (K.UNSUPPORTED, None, True, LIMIT, False, True, REVIEW, "limit_order"),
    (K.UNSUPPORTED, None, True, None, True, False, REISSUED, "override"),
    # The key is fine: rejected; redeemed after delivery: a person decides.
    (K.UNUSED, False, True, None, False, False, REJECTED, "key_valid"),
    (K.UNUSED, False, True, LIMIT, False, False, REJECTED, "key_valid"),  # no limit needed
    (K.USED, False, True, None, False, False, REVIEW, "redeemed_after_delivery"),
    (K.UNUSED, False, True, None, True, False, REISSUED, "override"),
    # Used, but nobody knows when: a person decides.
    (K.USED, None, True, None, False, False, REVIEW, "cannot_verify"),
]
# Redeemed within the ambiguity window of its delivery (so `bad` is None): a person decides.
NEAR_TABLE = [
    (K.USED, None, True, None, False, False, REVIEW, "redeemed_near_delivery"),
    (K.USED, None, True, None, True, False, REISSUED, "override"),
    (K.USED, None, False, None, False, False, REJECTED, "already_replaced"),
]


@pytest.mark.parametrize(
    ("check", "bad", "active", "limit", "override", "without_check", "status", "code", "near"),
    [(*row, False) for row in REISSUE_TABLE] + [(*row, True) for row in NEAR_TABLE],
)
def test_the_reissue_decision(
    check, bad, active, limit, override, without_check, status, code, near
):
    decision = decide_reissue(
        ReissueFacts(
            check=check,
            bad=bad,
            delivery_active=active,
            limit=limit,
            override=override,
            reissue_without_check=without_check,
            near_delivery=near,
        )
    )
    assert (decision.status, decision.code) == (status, code)
    # What the request records: the limit with its count, otherwise the code itself.
    assert decision.detail == (limit if code.startswith("limit") else code)


def _refund(
    status, *, paid=50_00, kind=ProductKind.CARD_KEY, keys=(), topups=0, checked=(), skip=False
):  # type: ignore[no-untyped-def]
    return RefundFacts(
        order_status=status,
        paid_cents=paid,
        kind=kind,
        active_key_ids=frozenset(keys),
        active_topups=topups,
        checked_key_ids=frozenset(checked),
        skip_check=skip,
    )


TOPUP = ProductKind.DIRECT_TOPUP
REFUND_TABLE = [
    (_refund(O.CREATED, paid=0), "not_paid"),
    (_refund(O.PAID, paid=0), "not_paid"),
    (_refund(O.PAID), None),
    (_refund(O.FAILED, kind=TOPUP), None),
    (_refund(O.REFUNDING), None),  # a failed refund may be asked again
    (_refund(O.DELIVERING), None),  # waiting for stock, nothing delivered
    (_refund(O.DELIVERING, keys={1}), "partly_delivered"),
    (_refund(O.DELIVERING, kind=TOPUP), "delivery_in_progress"),
    (_refund(O.DELIVERED, kind=TOPUP, topups=1), "delivered_topup"),
    (_refund(O.DELIVERED, keys={1, 2}, checked={1, 2}), None),
    (_refund(O.DELIVERED, keys={1, 3}, checked={1, 2}), "not_checked"),  # 3 swapped in
    (_refund(O.DELIVERED, keys={1, 3}, checked=(), skip=True), None),  # checked at approval
    (_refund(O.REFUNDED), "order_state"),
    (_refund(O.CANCELLED), "order_state"),
]


@pytest.mark.parametrize(("facts", "code"), REFUND_TABLE)
def test_the_refund_policy(facts, code):
    refusal = refund_refusal(facts)
    assert (refusal.code if refusal else None) == code
    if refusal:
        assert refusal.message


@pytest.mark.parametrize(
    ("check", "near", "code"),
    [
        (K.UNUSED, False, None),
        (K.USED, False, "key_used"),
        (K.USED, True, "redeemed_near_delivery"),  # maybe bad on delivery: a person decides
        (K.INVALID, False, "key_used"),
        (K.UNKNOWN, False, "check_unavailable"),
        (K.UNSUPPORTED, False, "check_unavailable"),
    ],
)
def test_what_a_keys_check_means_for_its_refund(check, near, code):
    assert key_refusal(check, near_delivery=near) == code


@pytest.mark.parametrize(
    ("amount", "remaining", "auto", "goodwill", "approval"),
    [
        (None, 50_00, 100_00, False, False),  # the rest, under the limit
        (None, 150_00, 100_00, False, True),  # the rest, over the limit
        (50_00, 50_00, 100_00, False, False),  # exactly the rest
        (20_00, 50_00, 100_00, True, True),  # a goodwill part always needs a person
        (100_00, 100_00, 100_00, False, False),  # at the limit is still automatic
        (100_01, 100_01, 100_00, False, True),
    ],
)
def test_approval_and_goodwill(amount, remaining, auto, goodwill, approval):
    assert is_goodwill(amount, remaining) is goodwill
    assert needs_approval(amount, remaining, auto) is approval
