"""Steps that involve people (handoffs, details for a ticket), small talk and the
knowledge base."""

from __future__ import annotations

import re
from typing import Any

import bot.flows.orders as orders
from bot.engine import Turn
from bot.language import to_simplified, to_traditional
from bot.orders import OrderFacts
from bot.state import Pending
from bot.text import normalise

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


_INVOICE_DETAILS = re.compile(r"(@|税号|稅號|抬头|抬頭|公司|tax|vat|company|title)", re.I)


def collect_invoice(turn: Turn, intent: str, facts: OrderFacts | None) -> None:
    assert facts is not None
    if _INVOICE_DETAILS.search(turn.text) and len(turn.text) >= 20:  # details came with it
        open_ticket(turn, "invoice_request", details=turn.text)
        return
    turn.state.pending = Pending("collect", intent="invoice_request")
    turn.say("collect_invoice", order_no=facts.order_no)


def collect_complaint(turn: Turn, intent: str, facts: OrderFacts | None) -> None:
    confidence = (turn.parsed or {}).get("intent", {}).get("confidence", 0.0)
    if len(turn.text) >= 25 and confidence >= 0.6:  # a clear complaint is its own detail
        open_ticket(turn, "complaint", details=turn.text)
        return
    turn.state.pending = Pending("collect", intent="complaint")
    turn.say("collect_complaint")


# -- steps: people ------------------------------------------------------------------------------


PRIORITY = {"complaint": "high"}
# Work a colleague does in the background (an invoice, a corrected account at the supplier):
# the ticket is opened, and the bot keeps answering the customer meanwhile.
BACKGROUND = frozenset({"invoice_request", "wrong_account"})


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
    state.handoff = category not in BACKGROUND
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
    turn.say("ok_anything_else" if intent == "affirm" else "alright_anything_else")
    greet_menu(turn)


def out_of_scope(turn: Turn, intent: str, facts: OrderFacts | None) -> None:
    turn.say("out_of_scope")
    greet_menu(turn)


def fallback(turn: Turn, intent: str, facts: OrderFacts | None) -> None:
    turn.say("fallback")
    greet_menu(turn)


def answer_faq(turn: Turn, intent: str, facts: OrderFacts | None) -> None:
    if not answer_from_kb(turn, normalise(turn.text)):
        turn.say(
            "faq_no_answer",
            buttons_extra=((turn.t("intent_human_agent"), {"do": "handoff", "category": "faq"}),),
        )
        offer_one(turn)


def answer_from_kb(turn: Turn, question: str, *, then: str | None = None) -> bool:
    """Answer from the knowledge base if it has a confident answer, with "did this help?"
    (typed yes/no answers it too); False when it has none. Traditional questions are searched
    in Simplified (one set of Chinese articles) and answered in Traditional."""
    lang = "zh" if turn.language.startswith("zh") else "en"
    search = to_simplified(question) if turn.language == "zh-TW" else question
    asked = turn.engine.kb.ask(search, lang, k=1, channel=turn.conversation.channel)
    best = asked.result.best
    if best is None:
        return False
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
    turn.state.pending = Pending("confirm", intent="faq", data={"token": yes, "no": no})
    if then:
        turn.say(then)
    return True


def offer_one(turn: Turn) -> None:
    """The last reply offers one thing (a person, say): a typed "yes" takes it."""
    offered = turn.outgoing[-1].buttons if turn.outgoing else []
    if len(offered) == 1:
        turn.state.pending = Pending("confirm", data={"token": offered[0]["payload"]})


def _plain(markdown: str, limit: int = 1500) -> str:
    text = re.sub(r"\*\*(.+?)\*\*", r"\1", markdown)
    text = re.sub(r"`([^`]+)`", r"\1", text).strip()
    return text if len(text) <= limit else text[:limit].rsplit("\n", 1)[0] + "\n…"
