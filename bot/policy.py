"""The decision table: intent + what we know (order, proof, order facts) -> the next step.

`decide` is pure: no database, no network. The engine gathers the facts, calls `decide`, and
runs the step it names (`bot.flows`). Reading the table top to bottom says what the bot does
for every after-sales situation; `tests/unit/bot/test_policy.py` pins it row by row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fulfilment.services.aftersales import OrderFacts

# Intents that are about one order: the bot needs its number and proof of ownership first.
ORDER_INTENTS = frozenset(
    {
        "order_status",
        "key_invalid",
        "recharge_not_arrived",
        "refund_request",
        "refund_status",
        "payment_issue",
        "cancel_order",
        "wrong_account",
        "invoice_request",
    }
)
SMALLTALK = frozenset({"greet", "goodbye", "thanks", "affirm", "deny"})
WAITING = frozenset({"paid", "delivering"})
CLOSED = frozenset({"refunding", "refunded", "cancelled"})

Check = Callable[[OrderFacts], bool]


@dataclass(frozen=True)
class Rule:
    intent: str
    when: Check
    step: str


def _is(**wanted: object) -> Check:
    """A condition on order facts: every named fact equals (or is in) the wanted value."""

    def check(facts: OrderFacts) -> bool:
        for name, value in wanted.items():
            actual = getattr(facts, name)
            if isinstance(value, frozenset | set | tuple):
                if actual not in value:
                    return False
            elif actual != value:
                return False
        return True

    return check


def _any(_: OrderFacts) -> bool:
    return True


def _refund_in_flight(facts: OrderFacts) -> bool:
    return any(r.status in ("pending_approval", "processing") for r in facts.refunds)


KEY, TOPUP = "card_key", "direct_topup"

# First matching row wins. `step` names a function in bot.flows.
TABLE: tuple[Rule, ...] = (
    # -- where is my order ------------------------------------------------------------------
    Rule("order_status", _is(status="created"), "order_unpaid"),
    Rule("order_status", _is(kind=KEY, status=WAITING), "order_waiting"),
    Rule("order_status", _is(kind=TOPUP, status=WAITING), "topup_check"),
    Rule("order_status", _is(kind=KEY, status="delivered"), "show_keys"),
    Rule("order_status", _is(kind=TOPUP, status="delivered"), "topup_delivered"),
    Rule("order_status", _is(status="failed"), "order_failed"),
    Rule("order_status", _any, "order_closed"),
    # -- the key does not work --------------------------------------------------------------
    Rule("key_invalid", _is(kind=TOPUP), "topup_check"),
    Rule("key_invalid", _is(status="created"), "order_unpaid"),
    Rule("key_invalid", lambda f: f.open_reissue is not None, "reissue_checking"),
    Rule("key_invalid", _is(status=WAITING), "order_waiting"),
    Rule("key_invalid", _is(status="delivered"), "confirm_reissue"),
    Rule("key_invalid", _is(status="failed"), "order_failed"),
    Rule("key_invalid", _any, "order_closed"),
    # -- the top-up has not arrived ---------------------------------------------------------
    Rule("recharge_not_arrived", _is(kind=KEY, status="delivered"), "show_keys"),
    Rule("recharge_not_arrived", _is(kind=KEY, status=WAITING), "order_waiting"),
    Rule("recharge_not_arrived", _is(status="created"), "order_unpaid"),
    Rule("recharge_not_arrived", _is(status=WAITING), "topup_check"),
    Rule("recharge_not_arrived", _is(status="delivered"), "topup_delivered_dispute"),
    Rule("recharge_not_arrived", _is(status="failed"), "order_failed"),
    Rule("recharge_not_arrived", _any, "order_closed"),
    # -- money back -------------------------------------------------------------------------
    Rule("refund_request", _is(status="created"), "order_unpaid"),
    Rule("refund_request", _refund_in_flight, "refund_status"),
    Rule("refund_request", _is(status=CLOSED), "refund_status"),
    Rule("refund_request", _is(kind=TOPUP, status="delivered"), "refund_topup_delivered"),
    Rule("refund_request", _is(kind=TOPUP, status="delivering"), "refund_topup_in_progress"),
    Rule("refund_request", _any, "confirm_refund"),
    Rule("cancel_order", _is(status="created"), "cancel_unpaid"),
    Rule("cancel_order", _refund_in_flight, "refund_status"),
    Rule("cancel_order", _is(status=CLOSED), "refund_status"),
    Rule("cancel_order", _is(kind=TOPUP, status="delivering"), "refund_topup_in_progress"),
    Rule("cancel_order", _is(status="delivered"), "cancel_delivered"),
    Rule("cancel_order", _any, "confirm_refund"),
    Rule("refund_status", _any, "refund_status"),
    # -- paid but it says unpaid, charged twice ---------------------------------------------
    Rule("payment_issue", _is(status="created"), "confirm_payment"),
    Rule("payment_issue", _any, "payment_recorded"),
    # -- typed the wrong account ------------------------------------------------------------
    Rule("wrong_account", _is(kind=KEY), "wrong_account_not_topup"),
    Rule("wrong_account", _is(status="failed"), "order_failed"),
    Rule("wrong_account", _is(status=CLOSED), "order_closed"),
    Rule("wrong_account", _any, "collect_wrong_account"),
    # -- an invoice -------------------------------------------------------------------------
    Rule("invoice_request", _is(status="created"), "order_unpaid"),
    Rule("invoice_request", _any, "collect_invoice"),
)

# Intents handled the same whatever the order (or without one).
GENERAL: dict[str, str] = {
    "human_agent": "handoff",
    "complaint": "collect_complaint",
    "faq": "answer_faq",
    "greet": "greet",
    "goodbye": "goodbye",
    "thanks": "thanks",
    "affirm": "nothing_pending",
    "deny": "nothing_pending",
    "out_of_scope": "out_of_scope",
    "nlu_fallback": "fallback",
    "inform_order": "after_sales_menu",
}


def decide(
    intent: str,
    *,
    has_order: bool,
    proven: bool,
    facts: OrderFacts | None,
    fallbacks: int = 0,
) -> str:
    """The name of the next step."""
    if intent == "nlu_fallback" and fallbacks >= 1:
        return "handoff_fallbacks"  # the second fallback in a row: a person takes over
    if intent in ORDER_INTENTS or intent == "inform_order":
        if not has_order:
            return "ask_order"
        if not proven:
            return "ask_proof"
        assert facts is not None, "facts are looked up once ownership is proven"
        if intent == "inform_order":
            return "after_sales_menu"
        for rule in TABLE:
            if rule.intent == intent and rule.when(facts):
                return rule.step
        return "order_closed"
    return GENERAL.get(intent, "fallback")


# The after-sales menu: which actions make sense for an order, best first.
MENU: tuple[tuple[Check, tuple[str, ...]], ...] = (
    (_is(status="created"), ("payment_issue", "cancel_order", "human_agent")),
    (_is(kind=KEY, status="delivered"), ("show_keys", "key_invalid", "refund_request")),
    (_is(kind=KEY, status=WAITING), ("order_status", "refund_request", "human_agent")),
    (_is(kind=TOPUP, status="delivered"), ("recharge_not_arrived", "invoice_request")),
    (_is(kind=TOPUP, status=WAITING), ("recharge_not_arrived", "wrong_account", "human_agent")),
    (_is(status="failed"), ("refund_request", "human_agent")),
    (_any, ("refund_status", "human_agent")),
)


def menu(facts: OrderFacts) -> tuple[str, ...]:
    """Actions to offer as buttons for this order."""
    for when, actions in MENU:
        if when(facts):
            return actions
    return ("human_agent",)
