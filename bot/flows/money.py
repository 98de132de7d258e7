"""Steps about refunds, cancellations and payments."""

from __future__ import annotations

import bot.flows.orders as orders
from bot.engine import Turn
from bot.orders import OrderFacts

# -- steps: money -------------------------------------------------------------------------------


def confirm_refund(turn: Turn, intent: str, facts: OrderFacts | None) -> None:
    assert facts is not None
    if facts.refundable in ("0.00", "0"):
        refund_status(turn, intent, facts)
        return
    orders.confirm(
        turn,
        "confirm_refund_keys"
        if facts.kind == "card_key" and facts.key_hints
        else "confirm_refund",
        {"do": "refund", "order_no": facts.order_no},
        order_no=facts.order_no,
        amount=facts.refundable,
        currency=facts.currency,
    )


def refund_status(turn: Turn, intent: str, facts: OrderFacts | None) -> None:
    assert facts is not None
    if not facts.refunds:
        turn.say("no_refund_yet", order_no=facts.order_no)
        orders.offer_menu(turn, facts)
        return
    for refund in facts.refunds[-3:]:
        turn.say(
            f"refund_is_{refund.status}",
            order_no=facts.order_no,
            amount=refund.amount,
            currency=facts.currency,
        )


def refund_topup_delivered(turn: Turn, intent: str, facts: OrderFacts | None) -> None:
    assert facts is not None
    turn.say("refund_topup_delivered", order_no=facts.order_no, ref=facts.supplier_ref or "-")


def refund_topup_in_progress(turn: Turn, intent: str, facts: OrderFacts | None) -> None:
    assert facts is not None
    turn.say("refund_topup_in_progress", order_no=facts.order_no)


def cancel_unpaid(turn: Turn, intent: str, facts: OrderFacts | None) -> None:
    assert facts is not None
    turn.say("cancel_unpaid", order_no=facts.order_no)


def cancel_delivered(turn: Turn, intent: str, facts: OrderFacts | None) -> None:
    assert facts is not None
    turn.say("cancel_delivered", order_no=facts.order_no)
    confirm_refund(turn, "refund_request", facts)


def confirm_payment(turn: Turn, intent: str, facts: OrderFacts | None) -> None:
    """The order looks unpaid: ask the payment provider right away."""
    assert facts is not None
    status = turn.engine.orders.confirm_payment(order_no=facts.order_no, actor=turn.actor)
    if status in ("paid", "already_paid"):
        turn.say("payment_found", order_no=facts.order_no)
    elif status == "unknown":
        turn.say("payment_unknown", order_no=facts.order_no)
    else:
        turn.say(
            "payment_not_found",
            order_no=facts.order_no,
            buttons_extra=(
                (
                    turn.t("button_i_was_charged"),
                    {"do": "handoff", "category": "payment_issue", "order_no": facts.order_no},
                ),
            ),
        )


def payment_recorded(turn: Turn, intent: str, facts: OrderFacts | None) -> None:
    assert facts is not None
    turn.say(
        "payment_recorded",
        order_no=facts.order_no,
        status=turn.t(f"status_{facts.status}"),
        buttons_extra=(
            (
                turn.t("button_charged_twice"),
                {
                    "do": "handoff",
                    "category": "payment_issue",
                    "order_no": facts.order_no,
                    "reason": "charged twice",
                },
            ),
        ),
    )
