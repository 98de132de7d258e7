"""The steps the decision table names, and what happens when the bot was waiting for an answer.

Each step reads the turn (conversation, state, the order's facts), calls at most one fulfilment
action through `OrderDesk`, and adds replies from the templates. Steps never show anything about
an order before ownership is proven: `decide` only reaches an order step with `proven=True`.
"""

from __future__ import annotations

import re
from typing import Any

from bot.engine import Turn
from bot.orders import NotAllowed, NotFound, OrderFacts, Proof
from bot.policy import ORDER_INTENTS, decide, menu
from bot.state import Pending

CONFIDENT = 0.45  # below this an intent is not trusted on its own to start an action
MENU_INTENTS = (
    "order_status",
    "key_invalid",
    "recharge_not_arrived",
    "refund_request",
    "human_agent",
)


# -- entry points -------------------------------------------------------------------------------


def understand(turn: Turn) -> None:
    """A text message: parse it, take what it tells, continue or start a flow."""
    parsed = turn.engine.nlu.parse(turn.text)
    turn.parsed = parsed
    intent = parsed.get("intent", {}).get("name") or "nlu_fallback"
    entities = {e["entity"]: e["value"] for e in parsed.get("entities", [])}
    turn.intent = intent
    state = turn.state
    order_no = entities.get("order_id")
    if order_no:
        _select_order(turn, order_no.upper())
    proof = _proof_from(entities)
    pending = state.pending
    if pending is not None and _resume(turn, pending, intent, order_no, proof):
        return
    if proof is not None and state.order_no and state.order_no not in state.proven:
        if not _prove(turn, state.order_no, proof):
            return
    if intent in ("nlu_fallback", "out_of_scope", "faq") or intent in ORDER_INTENTS:
        pair = turn.engine.disambiguate(parsed) if turn.engine.disambiguate else None
        if pair is not None and intent != "nlu_fallback":
            _ask_which(turn, pair)
            return
    if intent == "inform_order" and not order_no and proof is None:
        intent = "nlu_fallback"
    route(turn, intent)


def tap(turn: Turn, payload: str) -> None:
    """A button: look its action up in the state (unknown tokens are refused)."""
    action = turn.state.buttons.get(payload)
    if action is None:
        turn.say("button_expired")
        greet_menu(turn)
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
    state.fallbacks = state.fallbacks + 1 if intent == "nlu_fallback" else 0
    if intent in ORDER_INTENTS or intent == "inform_order":
        _telegram_orders(turn, intent)
        if state.pending is not None and state.pending.kind == "choose_order":
            return
    order_no = state.order_no
    proven = bool(order_no and order_no in state.proven)
    facts = _facts(turn, order_no) if proven and order_no else None
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


# -- order selection and proof ------------------------------------------------------------------


def _select_order(turn: Turn, order_no: str) -> None:
    state = turn.state
    if state.order_no != order_no:
        state.order_no = order_no
        if state.pending is not None and state.pending.kind in ("confirm", "collect"):
            state.pending = None  # a confirmation was about the previous order


def _proof_from(entities: dict[str, str]) -> Proof | None:
    if entities.get("email"):
        return Proof(email=entities["email"])
    if entities.get("phone"):
        return Proof(phone=entities["phone"])
    return None


def _proof_kind(proof: Proof) -> str:
    return "telegram" if proof.telegram_id else "email" if proof.email else "phone"


def _scopes(turn: Turn) -> dict[str, str | None]:
    return {
        "conversation": turn.conversation.id,
        "user": turn.conversation.user_id,
        "ip": turn.incoming.client_ip,
    }


def _prove(turn: Turn, order_no: str, proof: Proof) -> bool:
    """Try a proof of ownership; says why when it fails (the same words whether or not the
    order exists)."""
    guard = turn.engine.guard
    scopes = _scopes(turn)
    if not guard.may_prove(scopes):
        turn.say("proof_limited")
        return False
    result = turn.engine.orders.prove(order_no=order_no, claimant=turn.claimant, proof=proof)
    if result.locked:
        turn.say("proof_locked")
        return False
    if not result.proven:
        guard.failed_proof(scopes)
        turn.state.failed_proofs += 1
        turn.say("proof_failed")
        return False
    _remember_proof(turn, order_no, proof)
    turn.links.append((order_no, _proof_kind(proof)))
    return True


def _remember_proof(turn: Turn, order_no: str, proof: Proof) -> None:
    # Kept so keys can be revealed later in the conversation (the service checks it again).
    value = proof.telegram_id or proof.email or proof.phone or ""
    turn.state.proven[order_no] = f"{_proof_kind(proof)}:{value}"


def stored_proof(turn: Turn, order_no: str) -> Proof | None:
    raw = turn.state.proven.get(order_no)
    if not raw or ":" not in raw:
        return None
    kind, value = raw.split(":", 1)
    if kind == "telegram":
        return Proof(telegram_id=value)
    return Proof(email=value) if kind == "email" else Proof(phone=value)


def _telegram_orders(turn: Turn, intent: str) -> None:
    """A Telegram customer is proven by their identity when the order names it."""
    user_id = turn.conversation.user_id
    if not user_id or turn.conversation.channel != "telegram":
        return
    state = turn.state
    if state.order_no and state.order_no in state.proven:
        return
    mine = turn.engine.orders.telegram_orders(user_id)
    if state.order_no:
        if state.order_no in mine:
            _prove(turn, state.order_no, Proof(telegram_id=user_id))
        return
    if len(mine) == 1:
        state.order_no = mine[0]
        _prove(turn, mine[0], Proof(telegram_id=user_id))
    elif mine:
        state.pending = Pending("choose_order", intent=intent)
        turn.say(
            "choose_order",
            buttons_extra=tuple((no, {"do": "order", "order_no": no}) for no in mine),
        )


def _facts(turn: Turn, order_no: str) -> OrderFacts | None:
    try:
        return turn.engine.orders.facts(order_no)
    except NotFound:
        return None


def _resume(
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
        if intent in ("inform_order", "affirm", "nlu_fallback") and proof is None:
            turn.say("ask_order_again")
            return True
        state.pending = None
        return False
    if pending.kind == "ask_proof":
        if proof is not None and state.order_no:
            state.pending = None
            if _prove(turn, state.order_no, proof):
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
        state.pending = None
        return False
    if pending.kind == "confirm":
        token = pending.data.get("token")
        if intent == "affirm" and token in state.buttons:
            state.pending = None
            tap(turn, token)
            return True
        if intent == "deny":
            state.pending = None
            turn.say("cancelled")
            return True
        state.pending = None
        return False
    if pending.kind == "collect":
        if intent in ("human_agent", "deny") or (
            intent in ORDER_INTENTS and intent != pending.intent and len(turn.text) < 40
        ):
            state.pending = None
            if intent == "deny":
                turn.say("cancelled")
                return True
            return False
        state.pending = None
        _open_ticket(turn, pending.intent or "complaint", details=turn.text, **pending.data)
        return True
    if pending.kind == "csat":
        score = re.fullmatch(r"\s*([1-5])\s*(?:/\s*5)?\s*", turn.text)
        state.pending = None
        if score:
            _csat(turn, {"score": int(score.group(1))}, "")
            return True
        return False
    state.pending = None
    return False


def _ask_which(turn: Turn, pair: tuple[str, str]) -> None:
    turn.state.pending = None
    buttons = tuple(
        (turn.t(f"intent_{name}"), {"do": "intent", "intent": name}) for name in pair
    )
    turn.say("did_you_mean", buttons_extra=buttons)


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
    _offer_menu(turn, facts)


def _offer_menu(turn: Turn, facts: OrderFacts) -> None:
    actions = menu(facts)
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


def _duration(turn: Turn, seconds: float) -> str:
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
        eta=_duration(turn, eta.typical.total_seconds()),
    )


def show_keys(turn: Turn, intent: str, facts: OrderFacts | None) -> None:
    assert facts is not None
    _reveal(turn, facts.order_no)
    _offer_menu(turn, facts)


def _reveal(turn: Turn, order_no: str, key: str = "your_keys") -> bool:
    proof = stored_proof(turn, order_no)
    if proof is None:
        ask_proof(turn, "order_status", None)
        return False
    keys = turn.engine.orders.reveal(order_no=order_no, claimant=turn.claimant, proof=proof)
    if not keys:
        turn.say("no_keys_yet", order_no=order_no)
        return False
    turn.say(key, order_no=order_no, secret={"keys": "\n".join(k.key for k in keys)})
    return True


def topup_check(turn: Turn, intent: str, facts: OrderFacts | None) -> None:
    """Ask the supplier now (query, re-submit or fail over as the core decides)."""
    assert facts is not None
    outcome = turn.engine.orders.advance(order_no=facts.order_no, actor=turn.actor)
    fresh = _facts(turn, facts.order_no) or facts
    if outcome.status == "delivered" or fresh.status == "delivered":
        turn.say("topup_arrived", order_no=fresh.order_no, ref=fresh.supplier_ref or "-")
    elif fresh.status == "failed":
        order_failed(turn, intent, fresh)
    else:
        eta = turn.engine.orders.eta(fresh.sku)
        turn.say(
            "topup_processing",
            order_no=fresh.order_no,
            account=_mask_account(fresh.recharge_account),
            eta=_duration(turn, eta.typical.total_seconds()),
        )


def _mask_account(account: str | None) -> str:
    if not account:
        return "-"
    return account if len(account) <= 4 else f"{'*' * (len(account) - 4)}{account[-4:]}"


def topup_delivered(turn: Turn, intent: str, facts: OrderFacts | None) -> None:
    assert facts is not None
    turn.say(
        "topup_delivered",
        order_no=facts.order_no,
        account=_mask_account(facts.recharge_account),
        ref=facts.supplier_ref or "-",
    )
    _offer_menu(turn, facts)


def topup_delivered_dispute(turn: Turn, intent: str, facts: OrderFacts | None) -> None:
    """The supplier says it arrived; the customer says not: explain once, then a person."""
    assert facts is not None
    turn.say(
        "topup_success_at_supplier",
        order_no=facts.order_no,
        account=_mask_account(facts.recharge_account),
        ref=facts.supplier_ref or "-",
        buttons_extra=(
            (turn.t("button_still_missing"), {"do": "dispute", "order_no": facts.order_no}),
        ),
    )


def order_failed(turn: Turn, intent: str, facts: OrderFacts | None) -> None:
    assert facts is not None
    turn.say("order_failed", order_no=facts.order_no)
    confirm_refund(turn, "refund_request", facts)


def order_closed(turn: Turn, intent: str, facts: OrderFacts | None) -> None:
    assert facts is not None
    turn.say(
        "order_closed", order_no=facts.order_no, status=turn.t(f"status_{facts.status}")
    )


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
    _confirm(turn, "confirm_reissue", {"do": "reissue", "order_no": facts.order_no},
             order_no=facts.order_no, hint=hints[0] if hints else "-")


def _confirm(turn: Turn, key: str, action: dict[str, Any], **values: object) -> None:
    yes = turn.button(turn.t("button_yes"), action)
    no = turn.button(turn.t("button_no"), {"do": "cancel"})
    turn.say(key, **values)
    turn.outgoing[-1].buttons = [yes, no]
    turn.state.pending = Pending("confirm", intent=turn.intent, data={"token": yes["payload"]})


# -- steps: money -------------------------------------------------------------------------------


def confirm_refund(turn: Turn, intent: str, facts: OrderFacts | None) -> None:
    assert facts is not None
    if facts.refundable in ("0.00", "0"):
        refund_status(turn, intent, facts)
        return
    _confirm(
        turn,
        "confirm_refund_keys" if facts.kind == "card_key" and facts.key_hints else "confirm_refund",
        {"do": "refund", "order_no": facts.order_no},
        order_no=facts.order_no,
        amount=facts.refundable,
        currency=facts.currency,
    )


def refund_status(turn: Turn, intent: str, facts: OrderFacts | None) -> None:
    assert facts is not None
    if not facts.refunds:
        turn.say("no_refund_yet", order_no=facts.order_no)
        _offer_menu(turn, facts)
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
                {"do": "handoff", "category": "payment_issue", "order_no": facts.order_no,
                 "reason": "charged twice"},
            ),
        ),
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
        account=_mask_account(facts.recharge_account),
    )


def collect_invoice(turn: Turn, intent: str, facts: OrderFacts | None) -> None:
    assert facts is not None
    turn.state.pending = Pending("collect", intent="invoice_request")
    turn.say("collect_invoice", order_no=facts.order_no)


def collect_complaint(turn: Turn, intent: str, facts: OrderFacts | None) -> None:
    if len(turn.text) >= 25:  # the complaint itself is the detail
        _open_ticket(turn, "complaint", details=turn.text)
        return
    turn.state.pending = Pending("collect", intent="complaint")
    turn.say("collect_complaint")


# -- steps: people ------------------------------------------------------------------------------


PRIORITY = {"complaint": "high"}


def _open_ticket(turn: Turn, category: str, *, details: str = "", **data: Any) -> None:
    state = turn.state
    order_no = state.order_no if state.order_no in state.proven else None
    reason = str(data.pop("reason", "") or category)
    _hand_off(turn, category, reason, details=details, order_no=order_no, **data)


def _hand_off(
    turn: Turn, category: str, reason: str, *, details: str = "", order_no: str | None = None,
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
    turn.say(f"handoff_{category}" if turn.engine.replies.has(f"handoff_{category}") else "handoff")


def handoff(turn: Turn, intent: str, facts: OrderFacts | None) -> None:
    state = turn.state
    order_no = state.order_no if state.order_no in state.proven else None
    _hand_off(turn, "human_agent", "customer asked for a person", order_no=order_no)


def handoff_fallbacks(turn: Turn, intent: str, facts: OrderFacts | None) -> None:
    state = turn.state
    order_no = state.order_no if state.order_no in state.proven else None
    _hand_off(turn, "fallback", "the bot did not understand twice", order_no=order_no,
              details=turn.text)


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
    body = _plain(article.body)
    if turn.language == "zh-TW":
        from bot.language import to_traditional

        body = to_traditional(body)
    action = {"do": "kb_feedback", "article_id": article.id, "query_id": asked.query_id}
    turn.say(
        "faq_answer",
        title=article.title if turn.language != "zh-TW" else _tw(article.title),
        body=body,
        buttons_extra=(
            (turn.t("button_helpful"), {**action, "helpful": True}),
            (turn.t("button_not_helpful"), {**action, "helpful": False}),
        ),
    )


def _tw(text: str) -> str:
    from bot.language import to_traditional

    return to_traditional(text)


def _plain(markdown: str, limit: int = 1500) -> str:
    text = re.sub(r"\*\*(.+?)\*\*", r"\1", markdown)
    text = re.sub(r"`([^`]+)`", r"\1", text).strip()
    return text if len(text) <= limit else text[:limit].rsplit("\n", 1)[0] + "\n…"


STEPS = {
    name: globals()[name]
    for name in (
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
}


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
    route(turn, turn.intent)


def _btn_order(turn: Turn, action: dict[str, Any], token: str) -> None:
    order_no = str(action["order_no"])
    wanted = turn.state.pending.intent if turn.state.pending else None
    turn.state.pending = None
    _select_order(turn, order_no)
    route(turn, wanted or "inform_order")


def _btn_show_keys(turn: Turn, action: dict[str, Any], token: str) -> None:
    order_no = _owned(turn, action)
    if order_no:
        _reveal(turn, order_no)


def _btn_confirm_reissue(turn: Turn, action: dict[str, Any], token: str) -> None:
    order_no = _owned(turn, action)
    if order_no:
        _confirm(
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
    if status == "reissued":
        turn.say("key_reissued_intro", order_no=order_no)
        _reveal(turn, order_no, key="your_new_keys")
    elif status == "waiting_stock":
        turn.say("reissue_waiting_stock", order_no=order_no)
    elif status == "rejected" and code == "key_valid":
        turn.say(
            "reissue_key_valid",
            order_no=order_no,
            buttons_extra=((turn.t("intent_human_agent"), _handoff_action("key_invalid", order_no,
                                                                          "key valid at supplier")),),
        )
    elif status == "rejected":
        turn.say("reissue_already_replaced", order_no=order_no)
    elif status == "check_unavailable":
        turn.say("reissue_check_unavailable", order_no=order_no)
    elif code == "redeemed_after_delivery":
        turn.say(
            "reissue_redeemed",
            order_no=order_no,
            buttons_extra=((turn.t("intent_human_agent"), _handoff_action("key_invalid", order_no,
                                                                          code)),),
        )
    else:  # needs_review: over a limit, cannot verify, ambiguous: a person decides
        _hand_off(turn, "key_invalid", f"reissue needs review: {code}", order_no=order_no,
                  request_id=turn.request_id(token))


def _handoff_action(category: str, order_no: str, reason: str) -> dict[str, Any]:
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
            buttons_extra=((turn.t("intent_human_agent"),
                            _handoff_action("refund_request", order_no, exc.code)),),
        )
        return
    status, code = str(result.status), str(result.code)
    amount = f"{result.amount_cents / 100:.2f}"
    if status == "succeeded":
        turn.say("refund_done", order_no=order_no, amount=amount)
    elif status == "processing":
        turn.say("refund_processing", order_no=order_no, amount=amount)
    elif status == "pending_approval":
        turn.say("refund_needs_approval", order_no=order_no, amount=amount)
    elif code == "key_used":
        turn.say(
            "refund_key_used",
            order_no=order_no,
            buttons_extra=((turn.t("intent_human_agent"),
                            _handoff_action("refund_request", order_no, code)),),
        )
    elif code == "check_unavailable":
        turn.say("refund_check_unavailable", order_no=order_no)
    else:
        turn.say("refund_failed", order_no=order_no)


def _btn_dispute(turn: Turn, action: dict[str, Any], token: str) -> None:
    order_no = _owned(turn, action)
    if not order_no:
        return
    facts = _facts(turn, order_no)
    _hand_off(
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
    _hand_off(
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
    try:
        turn.engine.kb.give_feedback(
            article_id=str(action["article_id"]),
            helpful=helpful,
            channel=turn.conversation.channel,
            query_id=int(query_id) if query_id else None,
        )
    except Exception:  # feedback is best effort; the customer still gets an answer
        pass
    if helpful:
        turn.say("glad_it_helped")
    else:
        turn.say(
            "sorry_not_helpful",
            buttons_extra=((turn.t("intent_human_agent"), {"do": "handoff", "category": "faq"}),),
        )


def _csat(turn: Turn, action: dict[str, Any], token: str) -> None:
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
    "csat": _csat,
}
