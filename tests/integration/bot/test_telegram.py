"""The Telegram channel through python-telegram-bot itself: realistic updates go through
`Application.process_update`, and the Bot API is a stand-in request object (any real network
call fails the test). The engine, the NLU and the fulfilment core are real (both databases)."""

from __future__ import annotations

import asyncio
import logging
import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select, update
from telegram import Update

from bot.channels.telegram import TelegramChannel
from bot.engine import push_delivery_for
from bot.models import Channel, Conversation, Delivery, Message, Sender
from bot.notices import Notices, OrderNotice
from bot.transcript import Outgoing
from fulfilment.actors import Actor
from fulfilment.ports import KeyCheckStatus
from fulfilment.services.delivery import deliver_order
from fulfilment.services.orders import OrderInput, ingest_order
from tests.factories import card_product
from tests.fake_bot_api import (
    BASE_URL,
    TOKEN,
    FakeBotApi,
    group_chat,
    message_update,
    refuse_real_requests,
    sticker_update,
    tap_update,
)
from tests.integration.bot.shop import (
    EMAIL,
    count,
    delivered_key,
    mark_key,
    reissues,
    revealed_to,
)

ORDER = "KM2026112200077"
OWNER, STRANGER = 555001, 555002


@pytest.fixture(autouse=True)
def no_network(monkeypatch):  # type: ignore[no-untyped-def]
    refuse_real_requests(monkeypatch)


@pytest.fixture
def api() -> FakeBotApi:
    return FakeBotApi()


def make_channel(engine, api: FakeBotApi) -> TelegramChannel:  # type: ignore[no-untyped-def]
    return TelegramChannel(
        engine,
        token=TOKEN,
        base_url=BASE_URL,
        request=api.request(),
        updates_request=api.request(),
    )


@pytest.fixture
async def channel(bot, api):  # type: ignore[no-untyped-def]
    channel = make_channel(bot, api)
    await channel.connect()  # getMe
    api.clear()
    yield channel
    await channel.application.shutdown()


async def feed(channel: TelegramChannel, data: dict) -> None:  # type: ignore[type-arg]
    await channel.application.process_update(Update.de_json(data, channel.application.bot))


def telegram_order(uow, suppliers, buyer: int = OWNER):  # type: ignore[no-untyped-def]
    """A delivered Steam key bought by a Telegram user; returns the fake supplier."""
    supplier = suppliers.add("sup-a")
    card_product(uow)
    data = OrderInput(
        ORDER,
        "STEAM-50",
        1,
        Decimal("50.00"),
        "CNY",
        buyer_email=EMAIL,
        buyer_telegram_id=str(buyer),
    )
    ingest_order(uow=uow, data=data, paid=True, actor=Actor.system("test"), txn_id="T-77")
    deliver_order(uow=uow, order_no=ORDER, actor=Actor.system("test"))
    return supplier


def the_key(uow) -> str:  # type: ignore[no-untyped-def]
    return delivered_key(uow, ORDER)


def buttons(sent: dict) -> dict[str, str]:  # type: ignore[type-arg]
    """title -> callback data of a sent message's inline keyboard."""
    rows = (sent.get("reply_markup") or {}).get("inline_keyboard", [])
    return {b["text"]: b["callback_data"] for row in rows for b in row}


def button(api: FakeBotApi, chat_id: int, title: str) -> str:
    for sent in reversed(api.sent(chat_id)):
        for text, data in buttons(sent).items():
            if title.lower() in text.lower():
                return data
    raise AssertionError(f"no button {title!r} sent to {chat_id}")


# -- conversations ------------------------------------------------------------------------------


async def test_a_telegram_buyer_gets_their_key_in_english(uow, suppliers, channel, api):
    telegram_order(uow, suppliers)
    await feed(channel, message_update(OWNER, "/start"))
    greeting = api.sent(OWNER)
    assert greeting[0]["text"].startswith("Hi Li!")
    menu = buttons(greeting[-1])
    assert "Where is my order?" in menu
    assert all(0 < len(data.encode()) <= 64 and ORDER not in data for data in menu.values())
    api.clear()
    await feed(channel, message_update(OWNER, "where is my order?"))
    assert the_key(uow) in "\n".join(api.texts(OWNER))
    assert revealed_to(uow, f"tg:{OWNER}") == 1
    with uow:
        stored = uow.session.scalars(select(Message.text)).all()
    assert not any(the_key(uow) in text for text in stored), "keys stay masked"


async def test_a_telegram_buyer_gets_their_key_in_chinese(uow, suppliers, channel, api):
    telegram_order(uow, suppliers)
    await feed(channel, message_update(OWNER, "/start", language="zh-hans"))
    assert "您好" in api.texts(OWNER)[0], "the greeting is in the customer's language"
    api.clear()
    await feed(channel, message_update(OWNER, "我的订单到哪了？卡密在哪里看", language="zh-hans"))
    answer = "\n".join(api.texts(OWNER))
    assert "卡密" in answer and the_key(uow) in answer
    assert revealed_to(uow, f"tg:{OWNER}") == 1


async def test_a_reissue_button_tapped_twice_reissues_once(uow, suppliers, channel, api):
    supplier = telegram_order(uow, suppliers)
    old = the_key(uow)
    mark_key(supplier, old, KeyCheckStatus.INVALID)
    await feed(channel, message_update(OWNER, f"the key of order {ORDER} says it's invalid"))
    assert "Go ahead?" in api.texts(OWNER)[-1]
    assert reissues(uow) == 0
    yes = button(api, OWNER, "Yes")
    api.clear()
    taps = [tap_update(OWNER, yes), tap_update(OWNER, yes)]
    await asyncio.gather(*(feed(channel, tap) for tap in taps))
    assert reissues(uow) == 1 and reissues(uow, "reissued") == 1
    new = the_key(uow)
    assert new != old and new in "\n".join(api.texts(OWNER))
    answered = [c["callback_query_id"] for c in api.calls_of("answerCallbackQuery")]
    assert sorted(answered) == sorted(t["callback_query"]["id"] for t in taps)


async def test_a_stranger_learns_nothing_about_someone_elses_order(uow, suppliers, channel, api):
    supplier = telegram_order(uow, suppliers)
    mark_key(supplier, the_key(uow), KeyCheckStatus.INVALID)
    await feed(channel, message_update(OWNER, f"my key for {ORDER} doesn't work"))
    owners_yes = button(api, OWNER, "Yes")
    await feed(channel, message_update(STRANGER, f"where is my order {ORDER}"))
    await feed(channel, message_update(STRANGER, "thief@example.com"))
    await feed(channel, tap_update(STRANGER, owners_yes))  # a forged tap with the owner's token
    told = "\n".join(api.texts(STRANGER))
    assert "email" in told.lower()
    assert "Steam" not in told and "STEAM-50-KEY" not in told and "delivered" not in told
    assert revealed_to(uow, f"tg:{STRANGER}") == 0
    assert reissues(uow) == 0


# -- what the channel does itself ---------------------------------------------------------------


async def test_group_messages_are_ignored(channel, api, uow):
    group = group_chat()
    await feed(channel, message_update(OWNER, "where is my order KM2026112200077", chat=group))
    await feed(channel, message_update(OWNER, "/start", chat=group))
    assert api.calls == []
    assert count(uow, select(func.count()).select_from(Conversation)) == 0


async def test_a_sticker_gets_a_polite_text_only_answer(channel, api):
    await feed(channel, sticker_update(OWNER))
    await feed(channel, sticker_update(STRANGER, language="zh-hant"))
    assert api.texts(OWNER) == [
        "I can only read text messages. Please type your question, "
        "or your order number, or tap a button."
    ]
    (traditional,) = api.texts(STRANGER)
    assert "文字" in traditional and "請" in traditional, "zh-TW gets Traditional characters"


async def test_an_engine_failure_still_answers_the_tap_and_is_logged(
    bot, channel, api, monkeypatch, caplog
):
    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("database is down")

    monkeypatch.setattr(bot, "handle", broken)
    with caplog.at_level(logging.ERROR, logger="bot.channels.telegram"):
        await feed(channel, tap_update(OWNER, "some-token"))
        await feed(channel, message_update(OWNER, "hello"))
    assert len(api.calls_of("answerCallbackQuery")) == 1
    assert api.texts(OWNER) == [bot.replies.text("error", "en")] * 2
    failures = [r for r in caplog.records if "failed" in r.getMessage()]
    assert len(failures) == 2 and all(r.exc_info for r in failures)


async def test_the_token_never_reaches_the_logs(uow, suppliers, channel, api, caplog):
    telegram_order(uow, suppliers)
    api.fail_next("sendMessage", 502, "Bad Gateway")
    with caplog.at_level(logging.DEBUG):
        await channel.start()  # long polling against the stand-in
        await asyncio.wait_for(channel.ready.wait(), 10)
        await feed(channel, message_update(OWNER, "/start"))
        await feed(channel, message_update(OWNER, "where is my order?"))
        # httpx (the real transport) logs every request's URL, which contains the token
        logging.getLogger("httpx").info("HTTP Request: POST %s/bot%s/getMe", BASE_URL, TOKEN)
        await channel.stop()
    messages = [r.getMessage() for r in caplog.records]
    assert any("Bad Gateway" in m for m in messages), "the failed send was logged"
    assert any("<TELEGRAM_BOT_TOKEN>/getMe" in m for m in messages)
    assert not any(TOKEN in m for m in messages)
    assert not any(the_key(uow) in m for m in messages), "nor the keys the bot sent"
    assert [c.method for c in api.calls[:2]] == ["deleteWebhook", "sendMessage"]


# -- pushing ------------------------------------------------------------------------------------


def queue_notice(bot, user_id: int, key: str, text: str) -> int:  # type: ignore[no-untyped-def]
    info = bot.telegram_conversation(
        chat_id=str(user_id), user_id=str(user_id), name="Li", language_code="en"
    )
    message = Outgoing(Sender.BOT, text, delivery=push_delivery_for(Channel.TELEGRAM))
    assert bot.transcripts.notify_once(key, info.id, message)
    with bot.transcripts._uow() as uow:
        return int(uow.session.scalar(select(func.max(Message.id))))


def delivery_of(uow, message_id: int) -> tuple[str, int]:  # type: ignore[no-untyped-def]
    with uow:
        row = uow.session.get(Message, message_id)
        return row.delivery, row.attempts


def time_passes(uow, message_id: int) -> None:  # type: ignore[no-untyped-def]
    with uow:
        uow.session.execute(
            update(Message)
            .where(Message.id == message_id)
            .values(next_attempt_at=uow.clock() - timedelta(seconds=1))
        )
        uow.commit()


async def test_a_pending_notice_is_pushed_once_in_order_and_marked_sent(bot, channel, api, uow):
    first = queue_notice(bot, OWNER, "n1", "Your order is delivered.")
    second = queue_notice(bot, OWNER, "n2", "Your refund is paid.")
    unconnected = make_channel(bot, api)
    assert await unconnected.push_pending() == 0, "nothing is tried before the bot connects"
    assert delivery_of(uow, first) == (Delivery.PENDING, 0)
    assert await channel.push_pending() == 2
    assert await channel.push_pending() == 0
    assert api.texts(OWNER) == ["Your order is delivered.", "Your refund is paid."]
    assert delivery_of(uow, first)[0] == delivery_of(uow, second)[0] == Delivery.SENT


async def test_a_notice_for_the_telegram_buyer_is_pushed_once_in_their_language(
    uow, suppliers, bot, channel, api
):
    telegram_order(uow, suppliers)
    await feed(channel, message_update(OWNER, "你好", language="zh-hans"))
    api.clear()
    notices = Notices(bot.transcripts, bot.orders)
    delivered = OrderNotice(f"delivered:{ORDER}", ORDER, "notice_key_delivered", {})
    assert notices.tell(delivered) == 1
    assert await channel.push_pending() == 1
    assert notices.tell(delivered) == 0, "the same event again"
    assert await channel.push_pending() == 0
    assert api.texts(OWNER) == [f"您的订单 {ORDER} 已发货。在这里告诉我“查看卡密”即可查看。"]
    assert api.texts() == api.texts(OWNER), "nobody else hears about the order"


async def test_a_failed_push_is_retried_after_a_backoff_and_keeps_the_order(
    bot, channel, api, uow
):
    first = queue_notice(bot, OWNER, "n1", "first")
    second = queue_notice(bot, OWNER, "n2", "second")
    api.fail_next("sendMessage", 502, "Bad Gateway")
    assert await channel.push_pending() == 0
    assert delivery_of(uow, first) == (Delivery.PENDING, 1)
    assert delivery_of(uow, second) == (Delivery.PENDING, 0), "the second waits for the first"
    assert api.texts(OWNER) == []
    assert await channel.push_pending() == 0, "not due again before the backoff"
    time_passes(uow, first)
    assert await channel.push_pending() == 2
    assert api.texts(OWNER) == ["first", "second"]
    assert delivery_of(uow, first) == (Delivery.SENT, 1)


async def test_a_user_who_blocked_the_bot_is_not_retried(bot, channel, api, uow):
    blocked = queue_notice(bot, OWNER, "n1", "to someone who left")
    other = queue_notice(bot, STRANGER, "n2", "to someone else")
    api.fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user")
    assert await channel.push_pending() == 1
    assert delivery_of(uow, blocked) == (Delivery.FAILED, 1)
    time_passes(uow, blocked)
    assert await channel.push_pending() == 0
    assert api.texts(STRANGER) == ["to someone else"] and api.texts(OWNER) == []
    assert delivery_of(uow, other)[0] == Delivery.SENT


async def test_two_pushers_never_send_a_message_twice(bot, api, uow):
    ids = [queue_notice(bot, OWNER + i % 3, f"n{i}", f"notice {i}") for i in range(12)]
    one, two = make_channel(bot, api), make_channel(bot, api)
    for channel in (one, two):
        await channel.connect()
    try:
        for _ in range(3):
            await asyncio.gather(one.push_pending(), two.push_pending())
    finally:
        for channel in (one, two):
            await channel.application.shutdown()
    texts = api.texts()
    assert sorted(texts) == sorted(f"notice {i}" for i in range(12)), "each exactly once"
    for chat in range(3):
        mine = api.texts(OWNER + chat)
        assert mine == [f"notice {i}" for i in range(12) if i % 3 == chat], "in order"
    assert {delivery_of(uow, mid)[0] for mid in ids} == {Delivery.SENT}


def test_a_claim_is_taken_once_and_only_for_the_oldest_pending_message(bot):
    first = queue_notice(bot, OWNER, "n1", "first")
    second = queue_notice(bot, OWNER, "n2", "second")
    transcripts = bot.transcripts
    assert not transcripts.claim_push(second), "an earlier message is still pending"
    assert transcripts.claim_push(first)
    assert not transcripts.claim_push(first), "taken by someone else for the lease"
    transcripts.mark_pushed(first, ok=True)
    assert transcripts.claim_push(second)


async def test_chats_are_handled_at_once_but_each_chat_in_order(bot, channel, api, monkeypatch):
    other_chat_done = threading.Event()
    finished: list[str] = []
    real = bot.handle

    def handle(conversation_id, incoming):  # type: ignore[no-untyped-def]
        if incoming.text == "first":  # slow: waits until the other chat was answered
            assert other_chat_done.wait(10), "another chat had to wait for a slow one"
        replies = real(conversation_id, incoming)
        finished.append(incoming.text)
        if incoming.text == "from the other chat":
            other_chat_done.set()
        return replies

    monkeypatch.setattr(bot, "handle", handle)
    await channel.application.start()  # the update queue, as polling or the webhook fill it
    try:
        for update in (
            message_update(OWNER, "first"),
            message_update(OWNER, "second"),
            message_update(STRANGER, "from the other chat"),
        ):
            await channel.application.update_queue.put(Update.de_json(update, None))
        for _ in range(500):
            if len(finished) == 3:
                break
            await asyncio.sleep(0.02)
    finally:
        await channel.application.stop()
    assert finished == ["from the other chat", "first", "second"]
