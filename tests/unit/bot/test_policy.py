"""The decision table, row by row: what the bot does in each after-sales situation."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from bot import flows
from bot.policy import GENERAL, TABLE, decide, menu
from fulfilment.services.aftersales import OrderFacts, RefundFact

NOW = datetime(2026, 11, 30, tzinfo=UTC)
KEY = OrderFacts(
    order_no="KM2026112200001",
    sku="STEAM-50",
    product_name="Steam 50",
    kind="card_key",
    status="delivered",
    quantity=1,
    amount="50.00",
    currency="CNY",
    paid=True,
    refunded="0.00",
    refundable="50.00",
    created_at=NOW,
    paid_at=NOW,
    delivered_at=NOW,
    fail_reason=None,
    key_hints=("****ABCD",),
    recharge_account=None,
    supplier_status=None,
    supplier_code=None,
    supplier_ref=None,
    refunds=(),
    reissues=0,
    open_reissue=None,
)
TOPUP = replace(KEY, kind="direct_topup", key_hints=(), recharge_account="13800138000")
PENDING = (RefundFact("r1", "pending_approval", "50.00", NOW, None),)


@pytest.mark.parametrize(
    ("intent", "facts", "step"),
    [
        ("order_status", replace(KEY, status="created"), "order_unpaid"),
        ("order_status", replace(KEY, status="paid"), "order_waiting"),
        ("order_status", replace(KEY, status="delivering"), "order_waiting"),
        ("order_status", KEY, "show_keys"),
        ("order_status", replace(TOPUP, status="delivering"), "topup_check"),
        ("order_status", TOPUP, "topup_delivered"),
        ("order_status", replace(KEY, status="failed"), "order_failed"),
        ("order_status", replace(KEY, status="refunded"), "order_closed"),
        ("key_invalid", KEY, "confirm_reissue"),
        ("key_invalid", replace(KEY, open_reissue="rq"), "reissue_checking"),
        ("key_invalid", replace(KEY, status="delivering"), "order_waiting"),
        ("key_invalid", replace(KEY, status="created"), "order_unpaid"),
        ("key_invalid", TOPUP, "topup_check"),
        ("key_invalid", replace(KEY, status="refunded"), "order_closed"),
        ("recharge_not_arrived", replace(TOPUP, status="paid"), "topup_check"),
        ("recharge_not_arrived", TOPUP, "topup_delivered_dispute"),
        ("recharge_not_arrived", replace(TOPUP, status="failed"), "order_failed"),
        ("recharge_not_arrived", KEY, "show_keys"),
        ("refund_request", KEY, "confirm_refund"),
        ("refund_request", replace(KEY, status="failed"), "confirm_refund"),
        ("refund_request", replace(KEY, status="created"), "order_unpaid"),
        ("refund_request", replace(KEY, refunds=PENDING), "refund_status"),
        ("refund_request", replace(KEY, status="refunded"), "refund_status"),
        ("refund_request", TOPUP, "refund_topup_delivered"),
        ("refund_request", replace(TOPUP, status="delivering"), "refund_topup_in_progress"),
        ("cancel_order", replace(KEY, status="created"), "cancel_unpaid"),
        ("cancel_order", replace(KEY, status="paid"), "confirm_refund"),
        ("cancel_order", KEY, "cancel_delivered"),
        ("refund_status", KEY, "refund_status"),
        ("payment_issue", replace(KEY, status="created"), "confirm_payment"),
        ("payment_issue", KEY, "payment_recorded"),
        ("wrong_account", KEY, "wrong_account_not_topup"),
        ("wrong_account", replace(TOPUP, status="delivering"), "collect_wrong_account"),
        ("wrong_account", replace(TOPUP, status="failed"), "order_failed"),
        ("invoice_request", KEY, "collect_invoice"),
        ("invoice_request", replace(KEY, status="created"), "order_unpaid"),
        ("inform_order", KEY, "after_sales_menu"),
    ],
)
def test_each_order_situation_leads_to_its_step(intent, facts, step):
    assert decide(intent, has_order=True, proven=True, facts=facts) == step


@pytest.mark.parametrize("intent", ["order_status", "key_invalid", "refund_request"])
def test_no_order_step_runs_before_the_order_is_known_and_proven(intent):
    assert decide(intent, has_order=False, proven=False, facts=None) == "ask_order"
    assert decide(intent, has_order=True, proven=False, facts=None) == "ask_proof"


def test_the_second_misunderstanding_in_a_row_hands_off():
    assert decide("nlu_fallback", has_order=False, proven=False, facts=None) == "fallback"
    assert (
        decide("nlu_fallback", has_order=False, proven=False, facts=None, fallbacks=1)
        == "handoff_fallbacks"
    )


def test_general_intents_need_no_order():
    assert decide("human_agent", has_order=False, proven=False, facts=None) == "handoff"
    assert decide("complaint", has_order=False, proven=False, facts=None) == "collect_complaint"
    assert decide("faq", has_order=False, proven=False, facts=None) == "answer_faq"


def test_every_step_the_table_names_exists():
    named = {rule.step for rule in TABLE} | set(GENERAL.values())
    named |= {"ask_order", "ask_proof", "handoff_fallbacks", "order_closed"}
    assert named <= set(flows.STEPS), named - set(flows.STEPS)


@pytest.mark.parametrize(
    ("facts", "first"),
    [
        (KEY, "show_keys"),
        (replace(KEY, status="created"), "payment_issue"),
        (replace(TOPUP, status="failed"), "refund_request"),
        (replace(TOPUP, status="delivering"), "recharge_not_arrived"),
        (replace(KEY, status="refunded"), "refund_status"),
    ],
)
def test_the_after_sales_menu_offers_the_best_action_first(facts, first):
    assert menu(facts)[0] == first
