"""How messages reach the page: history after a reload, later messages through the stream (or
polling when the stream is down), each shown once and always as text; errors shown politely."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from bot.models import Conversation, Message, Sender
from bot.transcript import Outgoing
from tests.e2e.browser.conftest import sqlite_only
from tests.integration.bot.shop import EMAIL, KEY_ORDER, count, key_shop

pytestmark = pytest.mark.browser


def conversations(uow) -> int:  # type: ignore[no-untyped-def]
    return count(uow, select(func.count()).select_from(Conversation))


def test_a_reload_keeps_the_conversation_and_its_history(open_chat, uow, suppliers):
    key_shop(uow, suppliers)
    chat = open_chat()
    chat.say(f"Where is my order {KEY_ORDER}?")
    asked = chat.wait_for("bot", "email")
    cid = chat.conversation_id

    chat.reload()
    expect(chat.messages("customer", KEY_ORDER)).to_have_count(1)
    expect(chat.messages("bot", asked)).to_have_count(1)
    assert chat.conversation_id == cid
    chat.say(EMAIL)  # answers the question asked before the reload
    chat.wait_for("bot", "Steam")
    assert conversations(uow) == 1

    chat.page.get_by_role("button", name="New conversation").click()
    expect(chat.messages("customer")).to_have_count(0)
    assert chat.conversation_id is None
    chat.say("hello")
    expect(chat.messages("bot")).not_to_have_count(0)
    assert chat.conversation_id not in (None, cid)
    assert conversations(uow) == 2
    chat.reload()
    expect(chat.messages("customer")).to_have_count(1)
    expect(chat.messages("customer", "hello")).to_have_count(1)


@sqlite_only
def test_a_saved_conversation_the_server_does_not_know_starts_afresh(open_chat, uow):
    chat = open_chat()
    chat.page.evaluate("localStorage.setItem('kamidesk.chat.conversation', 'x'.repeat(32))")
    chat.reload()
    expect(chat.page.locator("#log .welcome")).to_have_count(1)
    assert chat.conversation_id is None
    chat.say("hello")
    expect(chat.messages("bot")).not_to_have_count(0)
    assert chat.conversation_id != "x" * 32
    assert conversations(uow) == 1


def _notify(chatbot, key: str, cid: str, text: str, sender: str = Sender.AGENT, name=None):  # type: ignore[no-untyped-def]
    assert chatbot.transcripts.notify_once(key, cid, Outgoing(sender, text, sender_name=name))


def test_a_later_message_arrives_through_the_stream_once(open_chat, chatbot):
    chat = open_chat()
    chat.say("hello")
    expect(chat.messages("bot")).not_to_have_count(0)
    cid = chat.conversation_id
    assert cid

    _notify(chatbot, "test:agent-1", cid, "Hi, this is Mei.\nI'm looking at it now.", name="Mei")
    agent = chat.page.locator("#log .msg.from-agent")
    expect(agent).to_have_count(1)
    expect(agent.locator(".who")).to_contain_text("Mei")
    assert agent.locator(".text").text_content() == "Hi, this is Mei.\nI'm looking at it now."
    assert not chatbot.transcripts.notify_once(
        "test:agent-1", cid, Outgoing(Sender.AGENT, "again")
    ), "a notice is stored once"
    # A second message arriving proves the stream moved past the first one.
    _notify(chatbot, "test:bot-2", cid, "Your key is ready.", sender=Sender.BOT)
    chat.wait_for("bot", "Your key is ready.")
    expect(agent).to_have_count(1)
    expect(chat.messages("customer", "hello")).to_have_count(1)
    shown = chat.page.eval_on_selector_all("#log .msg[data-id]", "ms => ms.map(m => m.dataset.id)")
    assert len(shown) == len(set(shown))
    assert chat.api_calls("GET", "/messages") == [], "the stream delivered, not polling"


def test_later_messages_arrive_by_polling_when_the_stream_fails(open_chat, chatbot):
    chat = open_chat()
    chat.page.route("**/stream?*", lambda route: route.abort())
    chat.say("hello")
    expect(chat.messages("bot")).not_to_have_count(0)
    expect(chat.page.locator("#presence")).to_have_text("Reconnecting…")
    cid = chat.conversation_id
    assert cid

    _notify(chatbot, "test:agent-1", cid, "Hi, this is Mei from support.", name="Mei")
    chat.wait_for("agent", "this is Mei")
    _notify(chatbot, "test:agent-2", cid, "Your order is on its way.", name="Mei")
    chat.wait_for("agent", "on its way")
    expect(chat.messages("agent")).to_have_count(2)
    expect(chat.messages("customer", "hello")).to_have_count(1)
    assert chat.api_calls("GET", "/messages"), "the page polled"


def test_message_text_is_shown_as_text_never_as_html(open_chat, chatbot, uow):
    attack = '<img src=x onerror="window.pwned=1"><script>window.pwned=2</script>'
    chat = open_chat()
    chat.say(attack)
    expect(chat.messages("bot")).not_to_have_count(0)
    cid = chat.conversation_id
    assert cid
    bold = "<b>bold</b> & <i>more</i>\nsecond line <script>window.pwned=3</script>"
    _notify(chatbot, "test:html", cid, bold, name="<u>Mei</u>")
    chat.wait_for("agent", "second line")

    for _ in range(2):  # live, then from the history after a reload
        assert chat.messages("customer", "onerror").text_content() == attack
        assert chat.messages("agent").text_content() == bold
        expect(chat.page.locator("#log .from-agent .who")).to_contain_text("<u>Mei</u>")
        expect(chat.log.locator("img, script, b, i, u")).to_have_count(0)
        assert chat.page.evaluate("window.pwned") is None
        assert chat.messages("agent").inner_text().count("\n") == 1, "the newline is kept"
        chat.reload()
        chat.wait_for("agent", "second line")
    with uow:
        assert uow.session.scalar(select(Message.text).where(Message.sender == "customer")) == (
            attack
        )


def answering(status: int):  # type: ignore[no-untyped-def]
    return lambda route: route.fulfill(status=status, content_type="application/json", body="{}")


@sqlite_only
def test_errors_are_shown_politely_in_the_customers_language(open_chat):
    chat = open_chat(locale="zh-CN")
    notice = chat.page.locator("#notice")
    box = chat.page.get_by_role("textbox")
    chat.say("你好")
    expect(chat.messages("bot")).not_to_have_count(0)
    expect(notice).to_be_hidden()

    for status, words in ((429, "稍等"), (503, "稍后再试")):
        chat.page.route("**/api/v1/chat/messages", answering(status))
        chat.say(f"第{status}条")
        expect(notice).to_contain_text(words)
        expect(chat.page.locator("#log .msg.failed").last).to_contain_text("未发送")
        expect(box).to_have_value(f"第{status}条")  # kept, to send again
        chat.page.unroute("**/api/v1/chat/messages")
        box.fill("")

    chat.context.set_offline(True)
    expect(notice).to_contain_text("网络已断开")
    chat.say("还在吗")
    expect(notice).to_contain_text("网络")
    chat.context.set_offline(False)
    chat.say("我回来了")
    chat.wait_for("customer", "我回来了")
    expect(notice).to_be_hidden()
    expect(chat.page.locator("#log .msg.from-customer:not(.failed)")).to_have_count(2)
