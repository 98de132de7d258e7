"""Steps that involve people (handoffs, details for a ticket), small talk and the
knowledge base."""

from __future__ import annotations

import re
from typing import Any

import bot.flows.orders as orders
from bot.engine import Turn
from bot.language import to_traditional
from bot.orders import OrderFacts
from bot.state import Pending

MENU_INTENTS = (
    "order_status",
    "key_invalid",
    "recharge_not_arrived",
    "refund_request",
    "human_agent",
)

# -- steps: details for a person ----------------------------------------------------------------


def wrong_account_not_topup(turn: Turn, intent: str, facts: OrderFacts | None) -> None:
    turn.say("wrong_account_not_topup")


def collect_wrong_account(turn: Turn, intent: str, facts: OrderFacts | None) -> None:
    assert facts is not None
    turn.state.pending = Pending("collect", intent="wrong_account")
    turn.say(
        "collect_wrong_account",
        order_no=facts.order_no,
        account=orders.mask_account(facts.recharge_account),
    )


def collect_invoice(turn: Turn, intent: str, facts: OrderFacts | None) -> None:
    assert facts is not None
    turn.state.pending = Pending("collect", intent="invoice_request")
    turn.say("collect_invoice", order_no=facts.order_no)


def collect_complaint(turn: Turn, intent: str, facts: OrderFacts | None) -> None:
    if len(turn.text) >= 25:  # the complaint itself is the detail
        open_ticket(turn, "complaint", details=turn.text)
        return
    turn.state.pending = Pending("collect", intent="complaint")
    turn.say("collect_complaint")


# -- steps: people ------------------------------------------------------------------------------


PRIORITY = {"complaint": "high"}


def open_ticket(turn: Turn, category: str, *, details: str = "", **data: Any) -> None:
    state = turn.state
    order_no = state.order_no if state.order_no in state.proven else None
    reason = str(data.pop("reason", "") or category)
    hand_off(turn, category, reason, details=details, order_no=order_no, **data)


def hand_off(
    turn: Turn,
    category: str,
    reason: str,
    *,
    details: str = "",
    order_no: str | None = None,
    **data: Any,
) -> None:
    from bot.engine import HandoffRequest

    state = turn.state
    if state.handoff:
        turn.say("handoff_waiting")
        return
    state.handoff = True
    state.pending = None
    turn.handoff = HandoffRequest(
        conversation_id=turn.conversation.id,
        channel=turn.conversation.channel,
        category=category,
        reason=reason[:200],
        priority=PRIORITY.get(category, data.pop("priority", "normal")),
        order_no=order_no,
        language=turn.language,
        customer_name=turn.conversation.name,
        details={k: str(v)[:500] for k, v in {"text": details, **data}.items() if v},
    )
    turn.say(
        f"handoff_{category}" if turn.engine.replies.has(f"handoff_{category}") else "handoff"
    )


def handoff(turn: Turn, intent: str, facts: OrderFacts | None) -> None:
    state = turn.state
    order_no = state.order_no if state.order_no in state.proven else None
    hand_off(turn, "human_agent", "customer asked for a person", order_no=order_no)


def handoff_fallbacks(turn: Turn, intent: str, facts: OrderFacts | None) -> None:
    state = turn.state
    order_no = state.order_no if state.order_no in state.proven else None
    hand_off(
        turn, "fallback", "the bot did not understand twice", order_no=order_no, details=turn.text
    )


# -- steps: conversation ------------------------------------------------------------------------


def greet_menu(turn: Turn) -> None:
    turn.say(
        "how_can_i_help",
        buttons_extra=tuple(
            (turn.t(f"intent_{name}"), {"do": "intent", "intent": name}) for name in MENU_INTENTS
        ),
    )


def greet(turn: Turn, intent: str, facts: OrderFacts | None) -> None:
    name = turn.conversation.name
    turn.say("greet_named" if name else "greet", name=name or "")
    greet_menu(turn)


def goodbye(turn: Turn, intent: str, facts: OrderFacts | None) -> None:
    turn.say("goodbye")


def thanks(turn: Turn, intent: str, facts: OrderFacts | None) -> None:
    turn.say("you_are_welcome")


def nothing_pending(turn: Turn, intent: str, facts: OrderFacts | None) -> None:
    turn.say("nothing_pending")
    greet_menu(turn)


def out_of_scope(turn: Turn, intent: str, facts: OrderFacts | None) -> None:
    turn.say("out_of_scope")
    greet_menu(turn)


def fallback(turn: Turn, intent: str, facts: OrderFacts | None) -> None:
    turn.say("fallback")
    greet_menu(turn)


def answer_faq(turn: Turn, intent: str, facts: OrderFacts | None) -> None:
    lang = "zh" if turn.language.startswith("zh") else "en"
    asked = turn.engine.kb.ask(turn.text, lang, k=1, channel=turn.conversation.channel)
    best = asked.result.best
    if best is None:
        turn.say(
            "faq_no_answer",
            buttons_extra=((turn.t("intent_human_agent"), {"do": "handoff", "category": "faq"}),),
        )
        return
    article = best.article
    title, body = article.title, _plain(article.body)
    if turn.language == "zh-TW":
        title, body = to_traditional(title), to_traditional(body)
    action = {"do": "kb_feedback", "article_id": article.id, "query_id": asked.query_id}
    turn.say(
        "faq_answer",
        title=title,
        body=body,
        buttons_extra=(
            (turn.t("button_helpful"), {**action, "helpful": True}),
            (turn.t("button_not_helpful"), {**action, "helpful": False}),
        ),
    )
    yes, no = (b["payload"] for b in turn.outgoing[-1].buttons)
    # "yes" / "no" typed instead of tapped answer the question too.
    turn.state.pending = Pending("confirm", intent="faq", data={"token": yes, "no": no})


def _plain(markdown: str, limit: int = 1500) -> str:
    text = re.sub(r"\*\*(.+?)\*\*", r"\1", markdown)
    text = re.sub(r"`([^`]+)`", r"\1", text).strip()
    return text if len(text) <= limit else text[:limit].rsplit("\n", 1)[0] + "\n…"
