"""Refunds, top-ups and payments through the chat: policy decides, the database shows it."""

from __future__ import annotations

from fulfilment.actors import Actor
from fulfilment.ports import (
    KeyCheckStatus,
    PaymentQuery,
    PaymentStatus,
    SupplierOutcome,
    SupplierResult,
)
from fulfilment.services.delivery import deliver_order
from tests.factories import card_product, paid_order
from tests.integration.bot.shop import (
    EMAIL,
    KEY_ORDER,
    TOPUP_ORDER,
    delivered_key,
    key_shop,
    mark_key,
    order_status,
    refunds,
    topup_shop,
)


def _fail_everywhere(uow, a, b) -> None:  # type: ignore[no-untyped-def]
    a.submits.append(SupplierResult(SupplierOutcome.FAILED, message="account refused"))
    b.submits.append(SupplierResult(SupplierOutcome.FAILED, message="account refused"))
    deliver_order(uow=uow, order_no=TOPUP_ORDER, actor=Actor.system("test"))
    assert order_status(uow, TOPUP_ORDER) == "failed"


def test_a_failed_top_up_is_refunded_in_chinese(uow, suppliers, payments, web_chat):
    a, b = topup_shop(uow, suppliers)
    _fail_everywhere(uow, a, b)
    chat = web_chat("zh-CN")
    chat.say(f"我的话费充值一直没到账 订单号{TOPUP_ORDER}")
    answer = chat.say(EMAIL)
    assert "无法发货" in answer and "98.50" in answer
    done = chat.tap("确定")
    assert "已退款" in done
    assert refunds(uow, "succeeded") == 1 and order_status(uow, TOPUP_ORDER) == "refunded"
    assert sum(payments.refunds.values()) == 9850


def test_an_unused_key_is_refunded_and_revoked(uow, suppliers, payments, web_chat):
    supplier, _ = key_shop(uow, suppliers)
    mark_key(supplier, delivered_key(uow), KeyCheckStatus.UNUSED)
    chat = web_chat("en")
    chat.say(f"I want my money back for {KEY_ORDER}")
    chat.say(EMAIL)
    assert "50.00" in chat.text and "stops working" in chat.text
    assert "refunded" in chat.tap("Yes")
    assert refunds(uow, "succeeded") == 1 and order_status(uow, KEY_ORDER) == "refunded"


def test_a_used_key_is_not_refunded(uow, suppliers, payments, web_chat):
    supplier, _ = key_shop(uow, suppliers)
    mark_key(supplier, delivered_key(uow), KeyCheckStatus.USED)
    chat = web_chat("en")
    chat.say(f"refund order {KEY_ORDER} please")
    chat.say(EMAIL)
    answer = chat.tap("Yes")
    assert "has been used" in answer
    assert refunds(uow, "succeeded") == 0 and payments.refunds == {}
    assert order_status(uow, KEY_ORDER) == "delivered"


def test_a_double_tapped_refund_pays_once(uow, suppliers, payments, web_chat):
    a, b = topup_shop(uow, suppliers)
    _fail_everywhere(uow, a, b)
    chat = web_chat("en")
    chat.say(f"refund {TOPUP_ORDER}")
    chat.say(EMAIL)
    payload = chat.payload("Yes")
    chat.tap_payload(payload)
    chat.tap_payload(payload)
    assert refunds(uow) == 1 and sum(payments.refunds.values()) == 9850


def test_a_large_refund_waits_for_a_person(uow, suppliers, payments, web_chat):
    suppliers.add("sup-a")
    card_product(uow)
    paid_order(uow, "KM2026112200090", quantity=3, email=EMAIL)  # 150.00 > 100.00 auto limit
    chat = web_chat("en")
    chat.say("cancel order KM2026112200090")
    chat.say(EMAIL)
    answer = chat.tap("Yes")
    assert "approval" in answer
    assert refunds(uow, "pending_approval") == 1 and payments.refunds == {}


def test_a_stuck_top_up_is_queried_again_and_reported(uow, suppliers, web_chat):
    a, _ = topup_shop(uow, suppliers)
    a.queries.extend([SupplierResult(SupplierOutcome.ACCEPTED, "SUP-A-1")] * 30)
    deliver_order(
        uow=uow, order_no=TOPUP_ORDER, actor=Actor.system("test")
    )  # submitted, still processing
    assert order_status(uow, TOPUP_ORDER) == "delivering"
    calls = len(a.calls)
    chat = web_chat("en")
    chat.say(f"my phone top-up {TOPUP_ORDER} hasn't arrived")
    answer = chat.say(EMAIL)
    assert len(a.calls) > calls, "the bot asked the supplier again"
    assert "still with the supplier" in answer


def test_a_top_up_the_supplier_calls_done_goes_to_a_person_with_its_reference(
    uow, suppliers, web_chat, handoffs
):
    topup_shop(uow, suppliers)
    deliver_order(uow=uow, order_no=TOPUP_ORDER, actor=Actor.system("test"))
    deliver_order(
        uow=uow, order_no=TOPUP_ORDER, actor=Actor.system("test")
    )  # the supplier answers success
    assert order_status(uow, TOPUP_ORDER) == "delivered"
    chat = web_chat("en")
    chat.say(f"top up {TOPUP_ORDER} not received")
    assert "reference" in chat.say(EMAIL)
    chat.tap("still hasn't arrived")
    (request,) = handoffs.requests
    assert request.category == "recharge_not_arrived" and request.order_no == TOPUP_ORDER
    assert request.details["supplier_ref"].startswith("S-")


def test_a_lost_payment_callback_is_confirmed_and_delivered(uow, suppliers, payments, web_chat):
    suppliers.add("sup-a")
    card_product(uow)
    paid_order(uow, "KM2026112200007", email=EMAIL, paid=False)
    payments.paid["KM2026112200007"] = PaymentQuery(
        PaymentStatus.PAID, txn_id="PAY-7", amount_cents=5000, currency="CNY"
    )
    chat = web_chat("zh-CN")
    chat.say("我已经付款了 订单还显示未支付 KM2026112200007")
    answer = chat.say(EMAIL)
    assert "付款已确认" in answer
    assert order_status(uow, "KM2026112200007") == "paid"


def test_no_payment_at_the_provider_is_not_marked_paid(uow, suppliers, payments, web_chat):
    suppliers.add("sup-a")
    card_product(uow)
    paid_order(uow, "KM2026112200008", email=EMAIL, paid=False)
    chat = web_chat("en")
    chat.say("I paid for KM2026112200008 but it says unpaid")
    answer = chat.say(EMAIL)
    assert "no completed payment" in answer
    assert order_status(uow, "KM2026112200008") == "created"


def test_an_order_number_under_attack_slows_checks_and_says_so(uow, suppliers, web_chat):
    from tests.integration.bot.shop import KEY_ORDER, key_shop

    key_shop(uow, suppliers)
    for i in range(10):  # ten addresses, one wrong guess each: the core throttles the order
        chat = web_chat("en", ip=f"203.0.113.{i}")
        chat.say(f"status of {KEY_ORDER}")
        chat.say(f"guess{i}@example.com")
    owner = web_chat("en", ip="198.51.100.99")
    owner.say(f"status of {KEY_ORDER}")
    answer = owner.say(EMAIL)
    assert "try again in a minute" in answer and "STEAM-50-KEY" not in answer
