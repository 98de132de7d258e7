"""Every reply exists in both languages, with the same placeholders and buttons."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.policy import GENERAL, MENU, ORDER_INTENTS, TABLE
from bot.replies import MissingReply, Replies, load, placeholders

BOT = Path(__file__).resolve().parents[3] / "bot"


def test_both_languages_have_the_same_keys_placeholders_and_buttons():
    zh, en = load("zh"), load("en")
    assert set(zh) == set(en), set(zh) ^ set(en)
    for key in en:
        assert placeholders(zh[key]["text"]) == placeholders(en[key]["text"]), key
        assert [b["action"] for b in zh[key]["buttons"]] == [
            b["action"] for b in en[key]["buttons"]
        ], key


def test_every_key_the_code_uses_exists():
    replies = Replies()
    source = "\n".join(p.read_text() for p in (BOT / "flows").glob("*.py"))
    source += (BOT / "engine.py").read_text()
    used = set(re.findall(r'(?:say|\.t)\(\s*"([a-z_]+)"', source))
    used |= set(re.findall(r'_confirm\(\s*turn,\s*"([a-z_]+)"', source))
    assert used, "the scan found the calls"
    missing = {key for key in used if not replies.has(key)}
    assert not missing
    for status in (
        "created",
        "paid",
        "delivering",
        "delivered",
        "failed",
        "refunding",
        "refunded",
        "cancelled",
    ):
        assert replies.has(f"status_{status}")
    for status in ("pending_approval", "processing", "succeeded", "failed", "rejected"):
        assert replies.has(f"refund_is_{status}")
    for intent in {*ORDER_INTENTS, *GENERAL} - {"nlu_fallback"}:
        assert replies.has(f"intent_{intent}"), intent
    for _, actions in MENU:
        for action in actions:
            assert replies.has(f"menu_{action}"), action
    assert all(replies.has("handoff") for _ in TABLE)


def test_traditional_chinese_is_converted_from_the_simplified_templates():
    text = Replies().text("ask_order", "zh-TW")
    assert "訂單號" in text and "订单号" not in text


def test_a_missing_key_or_value_is_an_error_not_silence():
    replies = Replies()
    with pytest.raises(MissingReply):
        replies.text("no_such_reply", "en")
    with pytest.raises(MissingReply):
        replies.text("ask_proof", "en")  # needs {order_no}
