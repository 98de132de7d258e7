from __future__ import annotations

import pytest

from bot.language import detect, from_locale


@pytest.mark.parametrize(
    ("text", "current", "expected"),
    [
        ("my key doesn't work", "zh-CN", "en"),
        ("我的卡密用不了", "en", "zh-CN"),
        ("我的卡密無法使用，請幫忙處理", "en", "zh-TW"),
        ("帮我check一下order", "en", "zh-CN"),
        ("KM2026112200001", "zh-CN", "zh-CN"),
        ("buyer@example.com", "en", "en"),
        ("🙂", "zh-TW", "zh-TW"),
        ("13800138000", None, None),
    ],
)
def test_the_reply_language_follows_the_customer(text, current, expected):
    assert detect(text, current) == expected


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("zh-CN", "zh-CN"),
        ("zh_Hant_TW", "zh-TW"),
        ("zh-HK", "zh-TW"),
        ("en-US", "en"),
        ("fr", None),
        (None, None),
    ],
)
def test_browser_and_telegram_locales_map_to_our_languages(code, expected):
    assert from_locale(code) == expected
