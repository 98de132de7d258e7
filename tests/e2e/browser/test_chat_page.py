"""A customer at /chat in headless Chromium: proving an order, a reissue, the browser's
language. What the bot did is checked in the database (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from bot.models import Conversation, Message, OrderLink
from fulfilment.ports import KeyCheckStatus
from tests.e2e.browser.conftest import sqlite_only
from tests.integration.bot.shop import (
    EMAIL,
    KEY_ORDER,
    active_keys,
    count,
    delivered_key,
    key_shop,
    mark_key,
    reissues,
    revealed_to,
)

pytestmark = pytest.mark.browser


def test_a_customer_proves_an_order_by_email_and_sees_the_key(open_chat, uow, suppliers):
    key_shop(uow, suppliers)
    key = delivered_key(uow)
    chat = open_chat()
    chat.say(f"What's the status of my order {KEY_ORDER}?")
    chat.wait_for("bot", "email")
    expect(chat.log).not_to_contain_text(key)
    assert revealed_to(uow, "web:") == 0

    chat.say(EMAIL)
    shown = chat.wait_for("bot", key)
    assert KEY_ORDER in shown
    assert revealed_to(uow, "web:") == 1
    with uow:
        link = uow.session.scalars(select(OrderLink)).one()
    assert (link.conversation_id, link.order_no, link.proof) == (
        chat.conversation_id,
        KEY_ORDER,
        "email",
    )


def test_a_double_clicked_reissue_confirmation_reissues_once(open_chat, uow, suppliers):
    supplier, _ = key_shop(uow, suppliers)
    old = delivered_key(uow)
    mark_key(supplier, old, KeyCheckStatus.INVALID)
    chat = open_chat()
    chat.say(f"The key of order {KEY_ORDER} doesn't work")
    chat.wait_for("bot", "email")
    chat.say(EMAIL)
    yes = chat.button("Yes, go ahead")
    expect(yes).to_be_enabled()

    yes.dblclick()
    expect(yes).to_be_disabled()
    expect(chat.button("No")).to_be_disabled()
    shown = chat.wait_for("bot", "Your new key")
    new = delivered_key(uow)
    assert new != old and new in shown
    assert reissues(uow) == 1 and reissues(uow, "reissued") == 1
    assert active_keys(uow) == 1
    posts = chat.api_calls("POST", "/chat/messages")
    taps = [r for r in posts if "payload" in (r.post_data_json or {})]
    assert len(taps) == 1, "the page sent the tap once"

    # A tap replayed anyway (another tab, a flaky network) acts once on the server as well.
    payload = taps[0].post_data_json["payload"]
    status = chat.page.evaluate(
        """async ([id, payload]) => (await fetch("/api/v1/chat/messages", {
            method: "POST", headers: {"Content-Type": "application/json"},
            body: JSON.stringify({conversation_id: id, payload})})).status""",
        [chat.conversation_id, payload],
    )
    assert status == 200
    assert reissues(uow) == 1 and active_keys(uow) == 1


@sqlite_only
@pytest.mark.parametrize(
    ("locale", "chrome", "reply"),
    [
        ("zh-CN", {"placeholder": "请输入消息…", "send": "发送", "title": "在线客服"}, "邮箱"),
        ("zh-TW", {"placeholder": "請輸入訊息…", "send": "傳送", "title": "線上客服"}, "訂單"),
        (
            "en-US",
            {"placeholder": "Type your message…", "send": "Send", "title": "Customer support"},
            "email",
        ),
    ],
    ids=["zh-CN", "zh-TW", "en-US"],
)
def test_the_page_and_the_bot_speak_the_browsers_language(
    open_chat, uow, suppliers, locale, chrome, reply
):
    key_shop(uow, suppliers)
    chat = open_chat(locale=locale)
    page = chat.page
    expect(page.locator("html")).to_have_attribute("lang", locale if "zh" in locale else "en")
    expect(page).to_have_title(chrome["title"])
    expect(page.locator("#text")).to_have_attribute("placeholder", chrome["placeholder"])
    expect(page.get_by_role("button", name=chrome["send"])).to_be_visible()

    chat.say(KEY_ORDER)  # no words: the bot answers in the language the page sent
    chat.wait_for("bot", reply)
    with uow:
        language = uow.session.scalar(select(Conversation.language))
    assert language == ("en" if locale == "en-US" else locale)


@sqlite_only
def test_a_tapped_suggestion_is_sent_as_text(open_chat, uow, suppliers):
    chat = open_chat(locale="zh-CN")
    suggestion = chat.page.locator("#log .welcome .choice").first
    text = suggestion.text_content() or ""
    suggestion.click()
    chat.wait_for("customer", text)
    expect(chat.messages("bot")).not_to_have_count(0)
    with uow:
        stored = uow.session.scalars(select(Message.text).where(Message.sender == "customer"))
        assert list(stored) == [text]
    assert count(uow, select(func.count()).select_from(Conversation)) == 1
