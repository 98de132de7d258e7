"""Proactive messages go only to conversations tied to the order, once per event."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from bot.models import Delivery
from bot.notices import Notices, OrderNotice
from fulfilment.actors import Actor
from fulfilment.services.delivery import deliver_order
from fulfilment.services.orders import OrderInput, ingest_order
from tests.factories import card_product
from tests.integration.bot.shop import EMAIL, KEY_ORDER, key_shop


def test_a_notice_reaches_the_proven_conversation_once_and_no_stranger(
    uow, suppliers, bot, web_chat
):
    key_shop(uow, suppliers)
    owner, stranger = web_chat("zh-CN"), web_chat("en")
    owner.say(f"{KEY_ORDER} 的卡密")
    owner.say(EMAIL)
    stranger.say(f"status {KEY_ORDER}")
    notices = Notices(bot.transcripts, bot.orders)
    notice = OrderNotice("refund-paid:1", KEY_ORDER, "notice_refund_paid", {"amount": "50.00"})
    assert notices.tell(notice) == 1
    assert notices.tell(notice) == 0  # the same event again: nothing new
    mine = bot.transcripts.messages(owner.id)
    assert mine[-1].text.startswith(f"订单 {KEY_ORDER} 的退款 50.00 已打款")
    assert not any("50.00" in m.text for m in bot.transcripts.messages(stranger.id))


def test_a_delivery_is_pushed_to_the_telegram_buyer_named_on_the_order(uow, suppliers, bot):
    suppliers.add("sup-a")
    card_product(uow)
    ingest_order(
        uow=uow,
        data=OrderInput(
            "KM2026112200099", "STEAM-50", 1, Decimal("50.00"), "CNY", buyer_telegram_id="7007"
        ),
        paid=True,
        actor=Actor.system("test"),
        txn_id="T-99",
    )
    chat = bot.telegram_conversation(chat_id="7007", user_id="7007", name="T", language_code="en")
    deliver_order(uow=uow, order_no="KM2026112200099", actor=Actor.system("test"))
    # The delivery's KeyDelivered event reached the bot's subscriber: one push, no more when
    # the same event is dispatched again.
    queue = bot.transcripts.push_queue(chat.id)
    assert [m.text for m in queue] == [
        'Your order KM2026112200099 is delivered. Ask me "show my key" here to see it.'
    ]
    bot.transcripts.mark_pushed(queue[0].id, ok=True)
    assert bot.transcripts.push_queue(chat.id) == []
    assert Delivery.SENT == "sent"


def test_an_order_running_late_gets_one_sorry_for_the_wait(uow, suppliers, bot, web_chat):
    suppliers.add("sup-a")
    card_product(uow, keys=0)  # nothing in stock: the order waits
    ingest_order(
        uow=uow,
        data=OrderInput(
            "KM2026112200101", "STEAM-50", 1, Decimal("50.00"), "CNY", buyer_email=EMAIL
        ),
        paid=True,
        actor=Actor.system("test"),
        txn_id="T-101",
    )
    deliver_order(uow=uow, order_no="KM2026112200101", actor=Actor.system("test"))
    chat = web_chat("en")
    chat.say("where is KM2026112200101")
    assert "being delivered" in chat.say(EMAIL)
    notices = Notices(bot.transcripts, bot.orders)
    now = uow.clock()
    assert notices.late_order_nos(now) == []  # not late yet (default 2 min, 6 min slow)
    assert notices.late_order_nos(now + timedelta(hours=1)) == ["KM2026112200101"]
    assert notices.late_order("KM2026112200101") == 1
    assert notices.late_order_nos(now + timedelta(hours=2)) == []  # apologised once
    assert "Sorry for the wait" in bot.transcripts.messages(chat.id)[-1].text
