"""Ownership before disclosure: nothing about an order, and never a key, before proof."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import select

from bot.models import Message
from fulfilment.actors import Actor
from tests.integration.bot.shop import (
    EMAIL,
    KEY_ORDER,
    delivered_key,
    key_shop,
    revealed_to,
)


def test_a_stranger_with_the_right_order_number_sees_nothing_about_it(uow, suppliers, web_chat):
    key_shop(uow, suppliers)
    key = delivered_key(uow)
    chat = web_chat("en")
    asked = chat.say(f"where is my order {KEY_ORDER}")
    assert "email" in asked.lower()
    answer = chat.say("thief@example.com")
    assert key not in answer and "Steam" not in answer and "delivered" not in answer.lower()
    assert revealed_to(uow, "web:") == 0


def test_a_wrong_proof_and_an_unknown_order_get_the_same_answer(uow, suppliers, web_chat):
    key_shop(uow, suppliers)
    one, two = web_chat("zh-CN"), web_chat("zh-CN")
    one.say(f"订单 {KEY_ORDER} 到哪了")
    two.say("订单 KM2026112299999 到哪了")
    assert one.say("wrong@example.com") == two.say(EMAIL)


def test_the_owner_proves_with_email_and_gets_the_key_again(uow, suppliers, web_chat):
    key_shop(uow, suppliers)
    key = delivered_key(uow)
    chat = web_chat("en")
    chat.say(f"hi, what's the status of {KEY_ORDER}?")
    answer = chat.say(f"my email is {EMAIL.upper()}")
    assert key in answer
    assert revealed_to(uow, "web:") == 1
    with uow:
        stored = uow.session.scalars(select(Message.text)).all()
    assert not any(key in text for text in stored), "the transcript keeps keys masked"


def test_the_owner_can_prove_with_the_phone_in_chinese(uow, suppliers, web_chat):
    from decimal import Decimal

    from fulfilment.services.delivery import deliver_order
    from fulfilment.services.orders import OrderInput, ingest_order
    from tests.factories import card_product

    suppliers.add("sup-a")
    card_product(uow)
    ingest_order(
        uow=uow,
        data=OrderInput(
            "KM2026112200055",
            "STEAM-50",
            1,
            Decimal("50.00"),
            "CNY",
            buyer_phone="+86 138-0013-8000",
        ),
        paid=True,
        actor=Actor.system("test"),
        txn_id="T-55",
    )
    deliver_order(uow=uow, order_no="KM2026112200055", actor=Actor.system("test"))
    chat = web_chat("zh-CN")
    chat.say("KM2026112200055 的卡密在哪里看")
    answer = chat.say("手机号 13800138000")
    assert "卡密" in answer and "STEAM-50-KEY" in answer


@pytest.fixture
def policy(policy):  # type: ignore[no-untyped-def]
    """These tests look at the chat's own limits: the core's per-order throttle out of the way."""
    return replace(policy, ownership_order_max_failures=1000)


def test_guessing_is_limited_across_new_web_sessions_from_one_address(uow, suppliers, web_chat):
    key_shop(uow, suppliers)
    answers = []
    for i in range(12):
        chat = web_chat("en", ip="203.0.113.9")
        chat.say(f"status of {KEY_ORDER}")
        answers.append(chat.say(f"guess{i}@example.com"))
    assert "Too many attempts" in answers[-1]
    # Even the right email from that address is refused now; nothing was revealed.
    chat = web_chat("en", ip="203.0.113.9")
    chat.say(f"status of {KEY_ORDER}")
    assert "Too many attempts" in chat.say(EMAIL)
    assert revealed_to(uow, "web:") == 0
    # Another address is not affected.
    other = web_chat("en", ip="198.51.100.20")
    other.say(f"status of {KEY_ORDER}")
    assert "STEAM-50-KEY" in other.say(EMAIL)


def test_a_telegram_buyer_is_recognised_by_their_identity(uow, suppliers, telegram_chat):
    from decimal import Decimal

    from fulfilment.services.delivery import deliver_order
    from fulfilment.services.orders import OrderInput, ingest_order
    from tests.factories import card_product

    suppliers.add("sup-a")
    card_product(uow)
    ingest_order(
        uow=uow,
        data=OrderInput(
            "KM2026112200077", "STEAM-50", 1, Decimal("50.00"), "CNY", buyer_telegram_id="555001"
        ),
        paid=True,
        actor=Actor.system("test"),
        txn_id="T-77",
    )
    deliver_order(uow=uow, order_no="KM2026112200077", actor=Actor.system("test"))
    owner = telegram_chat(user_id="555001")
    assert "STEAM-50-KEY" in owner.say("where is my order?")
    stranger = telegram_chat(user_id="555002")
    stranger.say("where is my order KM2026112200077")
    assert "STEAM-50-KEY" not in stranger.say("no idea")
    assert revealed_to(uow, "tg:555002") == 0


def test_a_forged_button_payload_does_nothing(uow, suppliers, web_chat):
    key_shop(uow, suppliers)
    victim = web_chat("en")
    victim.say(f"my key for {KEY_ORDER} doesn't work")
    victim.say(EMAIL)
    payload = victim.payload("Yes")
    attacker = web_chat("en")
    answer = attacker.tap_payload(payload)
    assert "no longer valid" in answer
    from tests.integration.bot.shop import reissues

    assert reissues(uow) == 0


def test_a_wrong_email_then_the_right_one_proves_the_order(uow, suppliers, web_chat):
    key_shop(uow, suppliers)
    chat = web_chat("en")
    chat.say(f"where is {KEY_ORDER}")
    assert "doesn't match" in chat.say("typo@example.com")
    assert "STEAM-50-KEY" in chat.say(EMAIL)
    assert revealed_to(uow, "web:") == 1


def test_the_email_may_come_before_the_order_number(uow, suppliers, web_chat):
    key_shop(uow, suppliers)
    chat = web_chat("zh-CN")
    chat.say("我的卡密在哪里")
    assert "订单号" in chat.say(f"我的邮箱是 {EMAIL}")
    assert "STEAM-50-KEY" in chat.say(KEY_ORDER)


def test_a_key_the_customer_pastes_is_stored_masked(uow, suppliers, web_chat):
    key_shop(uow, suppliers)
    key = delivered_key(uow)
    chat = web_chat("en")
    chat.say(f"the key {key} from {KEY_ORDER} does not work, and neither did ABCD-EFGH-2345-WXYZ")
    with uow:
        stored = uow.session.scalars(select(Message.text).where(Message.sender == "customer"))
        text = stored.one()
    assert key not in text and "ABCD-EFGH-2345-WXYZ" not in text
    assert KEY_ORDER in text and key[-4:] in text
