"""A key that does not work: prove, confirm, the supplier checks, the bot acts on the outcome."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.models import Message
from fulfilment.models import CardKey
from fulfilment.ports import KeyCheckStatus
from tests.integration.bot.shop import (
    EMAIL,
    KEY_ORDER,
    active_keys,
    delivered_key,
    key_shop,
    mark_key,
    reissues,
)


def _reported(chat, language: str) -> None:  # type: ignore[no-untyped-def]
    if language == "en":
        chat.say(f"the key from order {KEY_ORDER} says it's invalid")
    else:
        chat.say(f"订单{KEY_ORDER}的卡密显示无效，用不了")
    chat.say(EMAIL)


def test_a_bad_key_is_replaced_after_confirmation_in_english(uow, suppliers, web_chat):
    supplier, _ = key_shop(uow, suppliers)
    old = delivered_key(uow)
    mark_key(supplier, old, KeyCheckStatus.INVALID)
    chat = web_chat("en")
    _reported(chat, "en")
    assert "Go ahead?" in chat.text
    assert reissues(uow) == 0, "nothing happens before the customer confirms"
    answer = chat.tap("Yes")
    new = delivered_key(uow)
    assert new != old and new in answer
    assert reissues(uow, "reissued") == 1 and active_keys(uow) == 1
    with uow:
        assert uow.session.scalar(select(CardKey.status).where(CardKey.hint == "****ABCD"))
        stored = uow.session.scalars(select(Message.text)).all()
    assert not any(new in t or old in t for t in stored)


def test_a_bad_key_is_replaced_in_chinese_by_typing_yes(uow, suppliers, web_chat):
    supplier, _ = key_shop(uow, suppliers)
    old = delivered_key(uow)
    mark_key(supplier, old, KeyCheckStatus.INVALID)
    chat = web_chat("zh-CN")
    _reported(chat, "zh")
    assert "确定继续吗" in chat.text
    answer = chat.say("好的")
    assert "已为您更换" in answer and delivered_key(uow) in answer
    assert reissues(uow, "reissued") == 1


def test_a_double_tapped_reissue_button_reissues_once(uow, suppliers, web_chat):
    supplier, _ = key_shop(uow, suppliers)
    mark_key(supplier, delivered_key(uow), KeyCheckStatus.INVALID)
    chat = web_chat("en")
    _reported(chat, "en")
    payload = chat.payload("Yes")
    first = chat.tap_payload(payload)
    second = chat.tap_payload(payload)
    assert reissues(uow) == 1 and reissues(uow, "reissued") == 1
    assert active_keys(uow) == 1
    new = delivered_key(uow)
    assert new in first and new in second  # the same outcome, shown again


def test_a_key_the_supplier_calls_valid_is_not_replaced(uow, suppliers, web_chat):
    supplier, _ = key_shop(uow, suppliers)
    old = delivered_key(uow)
    mark_key(supplier, old, KeyCheckStatus.UNUSED)
    chat = web_chat("en")
    _reported(chat, "en")
    answer = chat.tap("Yes")
    assert "valid" in answer and "Talk to a person" in chat.buttons
    assert reissues(uow, "rejected") == 1 and delivered_key(uow) == old


def test_a_key_redeemed_after_delivery_is_not_replaced_in_chinese(uow, suppliers, web_chat):
    supplier, _ = key_shop(uow, suppliers)
    old = delivered_key(uow)
    with uow:
        delivered_at = uow.session.scalars(
            select(CardKey.delivered_at).where(CardKey.status == "delivered")
        ).one()
    mark_key(supplier, old, KeyCheckStatus.USED, used_at=delivered_at + timedelta(hours=2))
    chat = web_chat("zh-CN")
    _reported(chat, "zh")
    answer = chat.tap("确定")
    assert "已被兑换" in answer
    assert reissues(uow, "reissued") == 0 and delivered_key(uow) == old


def test_over_the_reissue_limit_a_person_decides(uow, suppliers, web_chat, handoffs):
    supplier, _ = key_shop(uow, suppliers, keys=6)
    for _ in range(2):  # the per-order limit is 2
        mark_key(supplier, delivered_key(uow), KeyCheckStatus.INVALID)
        chat = web_chat("en")
        _reported(chat, "en")
        chat.tap("Yes")
    assert reissues(uow, "reissued") == 2
    mark_key(supplier, delivered_key(uow), KeyCheckStatus.INVALID)
    chat = web_chat("en")
    _reported(chat, "en")
    answer = chat.tap("Yes")
    assert reissues(uow, "reissued") == 2 and reissues(uow, "needs_review") == 1
    assert "colleague" in answer
    (request,) = handoffs.requests
    assert (request.category, request.order_no) == ("key_invalid", KEY_ORDER)
    assert "limit_order" in request.reason


def test_without_stock_the_replacement_waits(uow, suppliers, web_chat):
    supplier, _ = key_shop(uow, suppliers, keys=1)
    mark_key(supplier, delivered_key(uow), KeyCheckStatus.INVALID)
    chat = web_chat("en")
    _reported(chat, "en")
    answer = chat.tap("Yes")
    assert "restocking" in answer
    assert active_keys(uow) == 0 and reissues(uow, "reissued") == 1


def test_a_top_up_order_is_never_sent_down_the_key_path(uow, suppliers, web_chat):
    from tests.integration.bot.shop import TOPUP_ORDER, topup_shop

    topup_shop(uow, suppliers)
    chat = web_chat("en")
    chat.say(f"the key of {TOPUP_ORDER} does not work")
    answer = chat.say(EMAIL)
    assert "supplier" in answer and reissues(uow) == 0
