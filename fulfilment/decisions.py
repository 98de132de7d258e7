"""The business decisions of after-sales, as pure functions over plain facts.

The services gather the facts (in a transaction, after asking the supplier), call these, and
apply the answer. Nothing here touches the database or the network, so every rule is tested as
a table (`tests/unit/fulfilment/test_decisions.py`).
"""

from __future__ import annotations

from dataclasses import dataclass

from fulfilment.models import OrderStatus, ProductKind, ReissueStatus
from fulfilment.outcomes import RefundCode, ReissueCode
from fulfilment.ports import KeyCheckStatus


@dataclass(frozen=True)
class ReissueFacts:
    """What is known when a reissue request is decided."""

    check: KeyCheckStatus  # what the supplier said about the key
    bad: bool | None  # bad when delivered (True), fine then (False), can't tell (None)
    delivery_active: bool  # False: another request replaced the key meanwhile
    limit: str | None = None  # "limit_order: 2 reissues ..." when a limit is reached
    override: bool = False  # staff reissues without a confirmation
    reissue_without_check: bool = False  # policy: reissue when the supplier cannot check
    # Redeemed within the ambiguity window of its delivery: before or after, nobody can tell.
    near_delivery: bool = False


@dataclass(frozen=True)
class ReissueDecision:
    status: ReissueStatus  # CHECKING: not decided yet, ask the supplier again later
    code: ReissueCode
    detail: str  # what the request records (the code, or the limit with its count)


def decide_reissue(facts: ReissueFacts) -> ReissueDecision:
    """Reissue, reject, hand to a person, or check again."""
    if facts.check == KeyCheckStatus.UNKNOWN and not facts.override:
        return _reissue(ReissueStatus.CHECKING, ReissueCode.CHECK_UNAVAILABLE)
    if not facts.delivery_active:
        return _reissue(ReissueStatus.REJECTED, ReissueCode.ALREADY_REPLACED)
    if facts.limit and (facts.bad or facts.check == KeyCheckStatus.UNSUPPORTED):
        code = ReissueCode(facts.limit.split(":")[0])
        return ReissueDecision(ReissueStatus.NEEDS_REVIEW, code, facts.limit)
    unchecked = (
        facts.bad is None
        and facts.check == KeyCheckStatus.UNSUPPORTED
        and facts.reissue_without_check
    )
    if facts.bad:
        return _reissue(ReissueStatus.REISSUED, ReissueCode.KEY_BAD)
    if facts.override:
        return _reissue(ReissueStatus.REISSUED, ReissueCode.OVERRIDE)
    if unchecked:
        return _reissue(ReissueStatus.REISSUED, ReissueCode.UNCHECKED_POLICY)
    if facts.bad is False and facts.check == KeyCheckStatus.UNUSED:
        return _reissue(ReissueStatus.REJECTED, ReissueCode.KEY_VALID)
    if facts.bad is False:  # used, but after we delivered it
        return _reissue(ReissueStatus.NEEDS_REVIEW, ReissueCode.REDEEMED_AFTER_DELIVERY)
    if facts.near_delivery:
        return _reissue(ReissueStatus.NEEDS_REVIEW, ReissueCode.REDEEMED_NEAR_DELIVERY)
    return _reissue(ReissueStatus.NEEDS_REVIEW, ReissueCode.CANNOT_VERIFY)


def _reissue(status: ReissueStatus, code: ReissueCode) -> ReissueDecision:
    return ReissueDecision(status, code, code.value)


@dataclass(frozen=True)
class RefundFacts:
    """What the refund policy looks at for a full refund."""

    order_status: OrderStatus
    paid_cents: int
    kind: ProductKind
    active_key_ids: frozenset[int]  # keys of the order's active deliveries
    active_topups: int  # active deliveries without a key (a top-up was delivered)
    checked_key_ids: frozenset[int] = frozenset()  # keys the supplier just called unused
    skip_check: bool = False  # waiting for approval: keys are checked once a person approves


@dataclass(frozen=True)
class Refusal:
    code: RefundCode
    message: str


def refund_refusal(facts: RefundFacts) -> Refusal | None:
    """Why a full refund is refused, or None if the policy allows it."""
    status = facts.order_status
    if status == OrderStatus.CREATED or facts.paid_cents == 0:
        return Refusal(RefundCode.NOT_PAID, "the order was never paid")
    delivered = bool(facts.active_key_ids) or facts.active_topups > 0
    if status in (OrderStatus.PAID, OrderStatus.FAILED, OrderStatus.REFUNDING):
        return None  # REFUNDING: fulfilment already stopped; a failed refund may be asked again
    if status == OrderStatus.DELIVERING:
        if delivered:
            return Refusal(RefundCode.PARTLY_DELIVERED, "partly delivered: a person must decide")
        if facts.kind == ProductKind.DIRECT_TOPUP:
            return Refusal(
                RefundCode.DELIVERY_IN_PROGRESS, "the top-up is still with the supplier"
            )
        return None
    if status == OrderStatus.DELIVERED:
        if facts.active_topups:
            return Refusal(RefundCode.DELIVERED_TOPUP, "a delivered top-up cannot be taken back")
        # Every key taken back must be one the supplier just called unused (not one swapped
        # in by a reissue while the check ran).
        if not facts.skip_check and not facts.active_key_ids <= facts.checked_key_ids:
            return Refusal(RefundCode.NOT_CHECKED, "delivered keys must be checked first")
        return None
    return Refusal(RefundCode.ORDER_STATE, f"order is {status}")


def key_refusal(check: KeyCheckStatus, *, near_delivery: bool = False) -> RefundCode | None:
    """What a supplier's answer about one delivered key means for its refund (`near_delivery`:
    redeemed within the ambiguity window of its delivery, maybe bad on delivery)."""
    if check in (KeyCheckStatus.UNKNOWN, KeyCheckStatus.UNSUPPORTED):
        return RefundCode.CHECK_UNAVAILABLE
    if near_delivery:
        return RefundCode.REDEEMED_NEAR_DELIVERY  # a person decides
    if check != KeyCheckStatus.UNUSED:
        return RefundCode.KEY_USED
    return None


def is_goodwill(amount_cents: int | None, remaining_cents: int) -> bool:
    """A partial amount, less than what is left to refund."""
    return amount_cents is not None and amount_cents < remaining_cents


def needs_approval(
    amount_cents: int | None, remaining_cents: int, auto_approve_cents: int
) -> bool:
    """Above the auto-approve limit, or a goodwill amount: a person approves."""
    cents = amount_cents if amount_cents is not None else remaining_cents
    return cents > auto_approve_cents or is_goodwill(amount_cents, remaining_cents)
