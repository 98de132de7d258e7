"""What a tapped button does. Actions on an order re-check that this conversation proved it
owns the order; a token belongs to one conversation's state, so it cannot be replayed elsewhere."""

from __future__ import annotations

import contextlib
from typing import Any

import bot.flows as flows
import bot.flows.orders as orders
import bot.flows.people as people
import bot.flows.proof as proofs
from bot.engine import Turn
from bot.orders import NotAllowed

# -- buttons ------------------------------------------------------------------------------------


def _owned(turn: Turn, action: dict[str, Any]) -> str | None:
    """The order of a button's action, if this conversation proved it owns it."""
    order_no = action.get("order_no")
    if order_no and order_no in turn.state.proven:
        return str(order_no)
    turn.say("button_expired")
    return None


def _btn_intent(turn: Turn, action: dict[str, Any], token: str) -> None:
    turn.intent = str(action.get("intent"))
    flows.route(turn, turn.intent)


def _btn_order(turn: Turn, action: dict[str, Any], token: str) -> None:
    order_no = str(action["order_no"])
    wanted = turn.state.pending.intent if turn.state.pending else None
    turn.state.pending = None
    proofs.select_order(turn, order_no)
    flows.route(turn, wanted or "inform_order")


def _btn_show_keys(turn: Turn, action: dict[str, Any], token: str) -> None:
    order_no = _owned(turn, action)
    if order_no:
        orders.reveal(turn, order_no)


def _btn_confirm_reissue(turn: Turn, action: dict[str, Any], token: str) -> None:
    order_no = _owned(turn, action)
    if order_no:
        orders.confirm(
            turn,
            "confirm_reissue",
            {"do": "reissue", "order_no": order_no, "unit_no": action.get("unit_no")},
            order_no=order_no,
            hint=action.get("title", "-"),
        )


def _btn_reissue(turn: Turn, action: dict[str, Any], token: str) -> None:
    order_no = _owned(turn, action)
    if not order_no:
        return
    turn.state.pending = None
    outcome = turn.engine.orders.reissue(
        order_no=order_no,
        request_id=turn.request_id(token),
        reason="customer reports the key does not work (chat)",
        actor=turn.actor,
        unit_no=action.get("unit_no"),
    )
    status, code = str(outcome.status), str(outcome.code)
    if status != "check_unavailable":  # decided now, in the chat: no notice later
        turn.told.append(f"reissue-decided:{turn.request_id(token)}")
    if status == "reissued":
        turn.say("key_reissued_intro", order_no=order_no)
        orders.reveal(turn, order_no, key="your_new_keys")
    elif status == "waiting_stock":
        turn.say("reissue_waiting_stock", order_no=order_no)
    elif status == "rejected" and code == "key_valid":
        turn.say(
            "reissue_key_valid",
            order_no=order_no,
            buttons_extra=(
                (
                    turn.t("intent_human_agent"),
                    handoff_action("key_invalid", order_no, "key valid at supplier"),
                ),
            ),
        )
        people.offer_one(turn)
    elif status == "rejected":
        turn.say("reissue_already_replaced", order_no=order_no)
    elif status == "check_unavailable":
        turn.say("reissue_check_unavailable", order_no=order_no)
    elif code == "redeemed_after_delivery":
        turn.say(
            "reissue_redeemed",
            order_no=order_no,
            buttons_extra=(
                (turn.t("intent_human_agent"), handoff_action("key_invalid", order_no, code)),
            ),
        )
        people.offer_one(turn)
    else:  # needs_review: over a limit, cannot verify, ambiguous: a person decides
        people.hand_off(
            turn,
            "key_invalid",
            f"reissue needs review: {code}",
            order_no=order_no,
            request_id=turn.request_id(token),
        )


def handoff_action(category: str, order_no: str, reason: str) -> dict[str, Any]:
    return {"do": "handoff", "category": category, "order_no": order_no, "reason": reason}


def _btn_refund(turn: Turn, action: dict[str, Any], token: str) -> None:
    order_no = _owned(turn, action)
    if not order_no:
        return
    turn.state.pending = None
    try:
        result = turn.engine.orders.refund(
            order_no=order_no,
            request_id=turn.request_id(token),
            reason="customer asked for a refund (chat)",
            actor=turn.actor,
        )
    except NotAllowed as exc:
        turn.say(
            "refund_not_allowed",
            order_no=order_no,
            buttons_extra=(
                (
                    turn.t("intent_human_agent"),
                    handoff_action("refund_request", order_no, exc.code),
                ),
            ),
        )
        people.offer_one(turn)
        return
    status, code = str(result.status), str(result.code)
    amount = f"{result.amount_cents / 100:.2f}"
    if status == "succeeded":
        turn.say("refund_done", order_no=order_no, amount=amount)
        turn.told.append(f"refund-paid:{turn.request_id(token)}")
    elif status == "processing":
        turn.say("refund_processing", order_no=order_no, amount=amount)
    elif status == "pending_approval":
        turn.say("refund_needs_approval", order_no=order_no, amount=amount)
    elif code == "key_used":
        turn.say(
            "refund_key_used",
            order_no=order_no,
            buttons_extra=(
                (turn.t("intent_human_agent"), handoff_action("refund_request", order_no, code)),
            ),
        )
        people.offer_one(turn)
    elif code == "check_unavailable":
        turn.say("refund_check_unavailable", order_no=order_no)
    else:
        turn.say("refund_failed", order_no=order_no)


def _btn_dispute(turn: Turn, action: dict[str, Any], token: str) -> None:
    order_no = _owned(turn, action)
    if not order_no:
        return
    facts = proofs.facts_of(turn, order_no)
    people.hand_off(
        turn,
        "recharge_not_arrived",
        "supplier reports success; customer says it did not arrive",
        order_no=order_no,
        supplier=facts.supplier_code if facts else "",
        supplier_ref=facts.supplier_ref if facts else "",
    )


def _btn_handoff(turn: Turn, action: dict[str, Any], token: str) -> None:
    order_no = action.get("order_no")
    if order_no and order_no not in turn.state.proven:
        order_no = None
    people.hand_off(
        turn,
        str(action.get("category") or "human_agent"),
        str(action.get("reason") or "customer asked for a person"),
        order_no=order_no,
    )


def _btn_cancel(turn: Turn, action: dict[str, Any], token: str) -> None:
    turn.state.pending = None
    turn.say("cancelled")


def _btn_kb_feedback(turn: Turn, action: dict[str, Any], token: str) -> None:
    helpful = bool(action.get("helpful"))
    query_id = action.get("query_id")
    # Feedback is best effort: the customer gets an answer even if it cannot be stored.
    with contextlib.suppress(Exception):
        turn.engine.kb.give_feedback(
            article_id=str(action["article_id"]),
            helpful=helpful,
            channel=turn.conversation.channel,
            query_id=int(query_id) if query_id else None,
        )
    if helpful:
        turn.say("glad_it_helped")
    else:
        turn.say(
            "sorry_not_helpful",
            buttons_extra=((turn.t("intent_human_agent"), {"do": "handoff", "category": "faq"}),),
        )
        people.offer_one(turn)


def csat(turn: Turn, action: dict[str, Any], token: str) -> None:
    score = int(action.get("score", 0))
    if 1 <= score <= 5:
        turn.rating = score
        turn.say("csat_thanks")


BUTTONS = {
    "intent": _btn_intent,
    "order": _btn_order,
    "show_keys": _btn_show_keys,
    "confirm_reissue": _btn_confirm_reissue,
    "reissue": _btn_reissue,
    "refund": _btn_refund,
    "dispute": _btn_dispute,
    "handoff": _btn_handoff,
    "cancel": _btn_cancel,
    "kb_feedback": _btn_kb_feedback,
    "csat": csat,
}
