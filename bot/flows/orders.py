"""Steps about an order's state and its keys."""

from __future__ import annotations

from typing import Any

import bot.flows.money as money
import bot.flows.proof as proofs
from bot.engine import Turn
from bot.orders import OrderFacts
from bot.policy import menu
from bot.state import Pending

# -- steps: asking ------------------------------------------------------------------------------


def ask_order(turn: Turn, intent: str, facts: OrderFacts | None) -> None:
    turn.state.pending = Pending("ask_order", intent=intent)
    turn.say("ask_order")


def ask_proof(turn: Turn, intent: str, facts: OrderFacts | None) -> None:
    turn.state.pending = Pending("ask_proof", intent=intent)
    turn.say("ask_proof", order_no=turn.state.order_no)


def after_sales_menu(turn: Turn, intent: str, facts: OrderFacts | None) -> None:
    assert facts is not None
    turn.say(
        "order_summary",
        order_no=facts.order_no,
        product=facts.product_name,
        status=turn.t(f"status_{facts.status}"),
    )
    offer_menu(turn, facts)


def offer_menu(turn: Turn, facts: OrderFacts, *, shown: bool = False) -> None:
    """The after-sales actions for the order as buttons (without "show my key" when the keys
    were just shown)."""
    actions = tuple(a for a in menu(facts) if not (shown and a == "show_keys"))
    buttons = tuple(
        (
            turn.t(f"menu_{name}"),
            {"do": "show_keys", "order_no": facts.order_no}
            if name == "show_keys"
            else {"do": "intent", "intent": name},
        )
        for name in actions
    )
    turn.say("menu_prompt", buttons_extra=buttons)


# -- steps: status ------------------------------------------------------------------------------


def duration(turn: Turn, seconds: float) -> str:
    minutes = max(1, round(seconds / 60))
    if minutes < 90:
        return turn.t("minutes", n=minutes)
    return turn.t("hours", n=round(minutes / 60))


def order_unpaid(turn: Turn, intent: str, facts: OrderFacts | None) -> None:
    assert facts is not None
    turn.say("order_unpaid", order_no=facts.order_no, amount=facts.amount, currency=facts.currency)


def order_waiting(turn: Turn, intent: str, facts: OrderFacts | None) -> None:
    assert facts is not None
    eta = turn.engine.orders.eta(facts.sku)
    turn.say(
        "order_waiting",
        order_no=facts.order_no,
        product=facts.product_name,
        eta=duration(turn, eta.typical.total_seconds()),
    )


def show_keys(turn: Turn, intent: str, facts: OrderFacts | None) -> None:
    assert facts is not None
    shown = reveal(turn, facts.order_no)
    offer_menu(turn, facts, shown=shown)


def reveal(turn: Turn, order_no: str, key: str = "your_keys") -> bool:
    proof = proofs.stored_proof(turn, order_no)
    if proof is None:
        ask_proof(turn, "order_status", None)
        return False
    keys = turn.engine.orders.reveal(order_no=order_no, claimant=turn.actor, proof=proof)
    if not keys:
        turn.say("no_keys_yet", order_no=order_no)
        return False
    turn.say(key, order_no=order_no, secret={"keys": "\n".join(k.key for k in keys)})
    return True


def topup_check(turn: Turn, intent: str, facts: OrderFacts | None) -> None:
    """Ask the supplier now (query, re-submit or fail over as the core decides)."""
    assert facts is not None
    outcome = turn.engine.orders.advance(order_no=facts.order_no, actor=turn.actor)
    fresh = proofs.facts_of(turn, facts.order_no) or facts
    if outcome.status == "delivered" or fresh.status == "delivered":
        turn.say("topup_arrived", order_no=fresh.order_no, ref=fresh.supplier_ref or "-")
        turn.told.append(f"topup-arrived:{fresh.order_no}")
    elif fresh.status == "failed":
        order_failed(turn, intent, fresh)
    else:
        eta = turn.engine.orders.eta(fresh.sku)
        turn.say(
            "topup_processing",
            order_no=fresh.order_no,
            account=mask_account(fresh.recharge_account),
            eta=duration(turn, eta.typical.total_seconds()),
        )


def mask_account(account: str | None) -> str:
    if not account:
        return "-"
    return account if len(account) <= 4 else f"{'*' * (len(account) - 4)}{account[-4:]}"


def topup_delivered(turn: Turn, intent: str, facts: OrderFacts | None) -> None:
    assert facts is not None
    turn.say(
        "topup_delivered",
        order_no=facts.order_no,
        account=mask_account(facts.recharge_account),
        ref=facts.supplier_ref or "-",
    )
    offer_menu(turn, facts)


def topup_delivered_dispute(turn: Turn, intent: str, facts: OrderFacts | None) -> None:
    """The supplier says it arrived; the customer says not: explain once, then a person."""
    assert facts is not None
    turn.say(
        "topup_success_at_supplier",
        order_no=facts.order_no,
        account=mask_account(facts.recharge_account),
        ref=facts.supplier_ref or "-",
        buttons_extra=(
            (turn.t("button_still_missing"), {"do": "dispute", "order_no": facts.order_no}),
        ),
    )
    # If the customer insists in words instead of tapping, that is the same as the button.
    token = turn.outgoing[-1].buttons[-1]["payload"]
    turn.state.pending = Pending("dispute", intent="recharge_not_arrived", data={"token": token})


def order_failed(turn: Turn, intent: str, facts: OrderFacts | None) -> None:
    assert facts is not None
    turn.say("order_failed", order_no=facts.order_no)
    money.confirm_refund(turn, "refund_request", facts)


def order_closed(turn: Turn, intent: str, facts: OrderFacts | None) -> None:
    assert facts is not None
    turn.say("order_closed", order_no=facts.order_no, status=turn.t(f"status_{facts.status}"))


# -- steps: keys --------------------------------------------------------------------------------


def reissue_checking(turn: Turn, intent: str, facts: OrderFacts | None) -> None:
    assert facts is not None
    turn.say("reissue_checking", order_no=facts.order_no)


def confirm_reissue(turn: Turn, intent: str, facts: OrderFacts | None) -> None:
    assert facts is not None
    hints = facts.key_hints
    if len(hints) > 1:
        turn.say(
            "which_key",
            buttons_extra=tuple(
                (hint, {"do": "confirm_reissue", "order_no": facts.order_no, "unit_no": i + 1})
                for i, hint in enumerate(hints)
            ),
        )
        return
    confirm(
        turn,
        "confirm_reissue",
        {"do": "reissue", "order_no": facts.order_no},
        order_no=facts.order_no,
        hint=hints[0] if hints else "-",
    )


def confirm(turn: Turn, key: str, action: dict[str, Any], **values: object) -> None:
    yes = turn.button(turn.t("button_yes"), action)
    no = turn.button(turn.t("button_no"), {"do": "cancel"})
    turn.say(key, **values)
    turn.outgoing[-1].buttons = [yes, no]
    turn.state.pending = Pending("confirm", intent=turn.intent, data={"token": yes["payload"]})
