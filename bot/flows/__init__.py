"""The steps the decision table names, and what happens when the bot was waiting for an answer.

A text message is understood (`understand`), a button tap looked up (`tap`); either continues
what the bot asked for (`resume`) or runs the decision table (`route`). The steps live in
`proof` (order selection and ownership), `orders` (status, keys), `money` (refunds, payments),
`people` (handoffs, details for a ticket, small talk, the knowledge base) and `buttons`.
Steps never show anything about an order before ownership is proven: `decide` only reaches an
order step with `proven=True`.
"""

from __future__ import annotations

import re
from typing import Any

from bot.engine import Turn
from bot.flows import buttons, money, orders, people
from bot.flows import proof as proofs
from bot.orders import Proof
from bot.policy import ORDER_INTENTS, decide
from bot.state import Pending
from bot.text import (
    asks_general_question,
    asks_status,
    normalise,
    says_key_fails,
    yes_or_no,
)

FAINT_COMPLAINT = 0.45

# -- entry points -------------------------------------------------------------------------------


def understand(turn: Turn) -> None:
    """A text message: parse it, take what it tells, continue or start a flow."""
    text = normalise(turn.text)
    parsed = turn.engine.nlu.parse(text)
    turn.parsed = parsed
    intent = parsed.get("intent", {}).get("name") or "nlu_fallback"
    entities = {e["entity"]: e["value"] for e in parsed.get("entities", [])}
    ruled = _refine(intent, parsed, entities, text)
    purpose = _purpose(turn, parsed, text) if ruled == intent else None
    intent = purpose or ruled
    turn.intent = intent
    state = turn.state
    order_no = entities.get("order_id")
    if order_no:
        proofs.select_order(turn, order_no.upper())
    pending = state.pending
    proof = proofs.proof_from(entities, text, asked=_asked_for_proof(pending, intent, text))
    if pending is not None and resume(turn, pending, intent, order_no, proof):
        return
    unproven = state.order_no and state.order_no not in state.proven
    if proof is not None and unproven and not proofs.prove(turn, state.order_no, proof):
        return
    if proof is not None and not state.order_no:
        state.proof_hint = proofs.encode(proof)  # tried as soon as an order number arrives
    if intent == parsed.get("intent", {}).get("name") and intent in ASKABLE:
        pair = turn.engine.disambiguate(parsed) if turn.engine.disambiguate else None
        if pair is not None and set(pair) <= ASKABLE:
            ask_which(turn, pair)
            return
    if intent == "inform_order" and not order_no and proof is None:
        intent = "nlu_fallback"
    if _general_question(turn, intent, text):
        return
    route(turn, intent)


def _asked_for_proof(pending: Pending | None, intent: str, text: str) -> bool:
    """A phone number in the message is a proof when the bot asked for one, when the message
    only gives details, or when the customer says it is theirs ("my phone is ..."). A recharge
    number mentioned in passing is not tried (a failed proof counts against them)."""
    if pending is not None and pending.kind in ("ask_proof", "ask_order", "choose_order"):
        return True
    return intent == "inform_order" or proofs.says_contact(text)


# Intents worth a "did you mean A or B?" (not the meta ones: "giving my order", "yes", ...).
ASKABLE = ORDER_INTENTS | {"faq", "complaint", "human_agent"}
_FILLER = re.compile(
    r"(订单号?|訂單號?|编号|編號|单号|單號|order( number| no\.?)?|my|is|the|of|for|"
    r"信箱|邮箱|郵箱|e-?mail|手机号?|手機號?|phone|号码|號碼|是|的|我|[\s\W_])",
    re.IGNORECASE,
)


def _purpose(turn: Turn, parsed: dict[str, Any], text: str) -> str | None:
    """What a message that carries an order number, email or phone asks for, judged from its
    other words: the entities make "giving my order details" win over the purpose ("開個收據給我，
    訂單KM…，信箱…" is an invoice request). None when the other words say nothing more."""
    spans = [
        (e["start"], e["end"])
        for e in parsed.get("entities", [])
        if e.get("entity") in ("order_id", "email", "phone") and "start" in e
    ]
    if not spans:
        return None
    rest = text
    for start, end in sorted(spans, reverse=True):
        rest = rest[:start] + " " + rest[end:]
    if asks_status(rest):
        return "order_status"
    if len(_FILLER.sub("", rest)) < 2:
        return None
    again = turn.engine.nlu.parse(rest)
    top = again.get("intent", {})
    if top.get("name") in ASKABLE and top.get("confidence", 0.0) >= 0.4:
        return str(top["name"])
    return None


def _refine(intent: str, parsed: dict[str, Any], entities: dict[str, str], text: str) -> str:
    """Unambiguous words beat a statistical guess; a message with an order number is about
    that order ("hi, what's the status of KM...?" is not small talk); a faint "complaint" is
    a message the bot did not understand (not a high-priority ticket)."""
    if intent in ("order_status", "inform_order", "nlu_fallback", "faq") and says_key_fails(text):
        return "key_invalid"
    confidence = parsed.get("intent", {}).get("confidence", 0.0)
    if intent == "complaint" and confidence < FAINT_COMPLAINT and not entities.get("order_id"):
        return "nlu_fallback"
    if not entities.get("order_id") or intent in ORDER_INTENTS:
        return intent
    if intent in ("human_agent", "complaint"):
        return intent
    for candidate in parsed.get("intent_ranking", []):
        if candidate["name"] in ORDER_INTENTS and candidate["confidence"] >= 0.15:
            return str(candidate["name"])
    return "inform_order"


def _general_question(turn: Turn, intent: str, text: str) -> bool:
    """ "How long does a refund take?" with no order in sight: answer it from the knowledge
    base (and say an order number gets a precise answer) instead of asking for one."""
    if intent not in ("refund_request", "refund_status", "order_status", "recharge_not_arrived"):
        return False
    if turn.state.order_no or not asks_general_question(text):
        return False
    return people.answer_from_kb(turn, text, then="ask_order_for_details")


def tap(turn: Turn, payload: str) -> None:
    """A button: look its action up in the state (unknown tokens are refused)."""
    action = turn.state.buttons.get(payload)
    if action is None:
        turn.say("button_expired")
        people.greet_menu(turn)
        return
    kind = action.get("do")
    turn.intent = f"button:{kind}"
    once = kind in ("handoff", "kb_feedback", "csat", "cancel")
    if once and payload in turn.state.used_buttons:
        turn.say("already_done")
        return
    turn.state.mark_used(payload)
    handler = BUTTONS.get(str(kind))
    if handler is None:
        turn.say("button_expired")
        return
    if turn.state.handoff and kind not in ("csat", "kb_feedback"):
        turn.say("handoff_waiting")
        return
    handler(turn, action, payload)


def route(turn: Turn, intent: str) -> None:
    """Run the decision table for `intent` with what the turn knows."""
    state = turn.state
    lost = intent == "nlu_fallback" or (intent in ("affirm", "deny") and state.pending is None)
    state.fallbacks = state.fallbacks + 1 if lost else 0
    if lost and state.fallbacks >= 2:
        intent = "nlu_fallback"  # twice in a row the bot could not follow: a person takes over
    if intent in ORDER_INTENTS or intent == "inform_order":
        proofs.telegram_orders(turn, intent)
        if state.pending is not None and state.pending.kind == "choose_order":
            return
    order_no = state.order_no
    if order_no and order_no not in state.proven and state.proof_hint:
        hint, state.proof_hint = proofs.decode(state.proof_hint), None
        if hint is not None and not proofs.prove(turn, order_no, hint):
            return
    proven = bool(order_no and order_no in state.proven)
    facts = proofs.facts_of(turn, order_no) if proven and order_no else None
    if proven and facts is None:  # the order vanished (should not happen): start over
        state.order_no = None
        proven = False
    step = decide(
        intent,
        has_order=bool(order_no),
        proven=proven,
        facts=facts,
        fallbacks=state.fallbacks - 1 if intent == "nlu_fallback" else 0,
    )
    STEPS[step](turn, intent, facts)


def resume(
    turn: Turn, pending: Pending, intent: str, order_no: str | None, proof: Proof | None
) -> bool:
    """Continue what the bot asked for; False when the message starts something else."""
    state = turn.state
    wanted = pending.intent or "order_status"
    if pending.kind in ("ask_order", "choose_order"):
        if order_no:
            state.pending = None
            route(turn, wanted)
            return True
        if proof is not None:  # the email or phone came first: kept for the order number
            state.proof_hint = proofs.encode(proof)
            turn.say("ask_order_again")
            return True
        if intent in ("inform_order", "affirm", "nlu_fallback"):
            turn.say("ask_order_again")
            return True
        state.pending = None
        return False
    if pending.kind == "ask_proof":
        if proof is not None and state.order_no:
            state.pending = None
            if proofs.prove(turn, state.order_no, proof):
                route(turn, wanted)
            else:
                state.pending = pending  # still waiting for a proof
            return True
        if order_no:
            state.pending = None
            route(turn, wanted)
            return True
        if intent in ("inform_order", "affirm", "nlu_fallback"):
            turn.say("ask_proof_again")
            return True
        if intent not in ORDER_INTENTS and intent not in ("human_agent", "faq", "greet"):
            # Pleading, small talk, "just send it": the proof is still what is needed.
            turn.say("proof_needed_why", buttons_extra=_person(turn))
            return True
        state.pending = None
        return False
    answer = yes_or_no(turn.text)
    if pending.kind == "confirm":
        yes, no = pending.data.get("token"), pending.data.get("no")
        said_yes = answer is True or (answer is None and intent == "affirm")
        said_no = answer is False or (answer is None and intent == "deny")
        if said_yes and yes in state.buttons:
            state.pending = None
            tap(turn, yes)
            return True
        if said_no:
            state.pending = None
            if no in state.buttons:
                tap(turn, no)
            else:
                turn.say("cancelled")
            return True
        state.pending = None
        return False
    if pending.kind == "dispute":  # the supplier says the top-up arrived; does the customer?
        state.pending = None
        token = pending.data.get("token")
        insists = intent in ("recharge_not_arrived", "complaint", "human_agent", "order_status")
        if (insists or answer is False or intent in ("deny", "nlu_fallback")) and token:
            tap(turn, token)
            return True
        return False
    if pending.kind == "collect":
        if (
            answer is False
            or intent == "human_agent"
            or (intent in ORDER_INTENTS and intent != pending.intent and len(turn.text) < 40)
        ):
            state.pending = None
            if answer is False or intent == "deny":
                turn.say("cancelled")
                return True
            return False
        state.pending = None
        if proof is not None and state.order_no and state.order_no not in state.proven:
            proofs.prove(turn, state.order_no, proof)  # a ticket with its order is worth more
        people.open_ticket(turn, pending.intent or "complaint", details=turn.text, **pending.data)
        return True
    if pending.kind == "csat":
        score = re.fullmatch(r"\s*([1-5])\s*(?:/\s*5)?\s*", turn.text)
        state.pending = None
        if score:
            buttons.csat(turn, {"score": int(score.group(1))}, "")
            return True
        return False
    state.pending = None
    return False


def _person(turn: Turn) -> tuple[tuple[str, dict[str, Any]], ...]:
    return ((turn.t("intent_human_agent"), {"do": "handoff", "category": "human_agent"}),)


def ask_which(turn: Turn, pair: tuple[str, str]) -> None:
    turn.state.pending = None
    choices = tuple((turn.t(f"intent_{name}"), {"do": "intent", "intent": name}) for name in pair)
    turn.say("did_you_mean", buttons_extra=choices)


STEP_NAMES = (
    "ask_order",
    "ask_proof",
    "after_sales_menu",
    "order_unpaid",
    "order_waiting",
    "show_keys",
    "topup_check",
    "topup_delivered",
    "topup_delivered_dispute",
    "order_failed",
    "order_closed",
    "reissue_checking",
    "confirm_reissue",
    "confirm_refund",
    "refund_status",
    "refund_topup_delivered",
    "refund_topup_in_progress",
    "cancel_unpaid",
    "cancel_delivered",
    "confirm_payment",
    "payment_recorded",
    "wrong_account_not_topup",
    "collect_wrong_account",
    "collect_invoice",
    "collect_complaint",
    "handoff",
    "handoff_fallbacks",
    "greet",
    "goodbye",
    "thanks",
    "nothing_pending",
    "out_of_scope",
    "fallback",
    "answer_faq",
)
STEPS = {
    name: getattr(module, name)
    for name in STEP_NAMES
    for module in (orders, money, people, proofs)
    if hasattr(module, name)
}
BUTTONS = buttons.BUTTONS
