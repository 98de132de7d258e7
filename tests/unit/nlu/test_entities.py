from __future__ import annotations

import pytest

from nlu.config import DEFAULT_ORDER_ID_PATTERNS, TRAIN_DATA_DIR
from nlu.entities import EntityExtractor
from nlu.training_data import load_training_data


@pytest.fixture(scope="module")
def extractor() -> EntityExtractor:
    data = load_training_data([TRAIN_DATA_DIR])
    return EntityExtractor(
        order_id_patterns=DEFAULT_ORDER_ID_PATTERNS,
        regexes=data.regexes,
        lookups=data.lookups,
        synonyms=data.synonyms,
    )


def found(extractor: EntityExtractor, text: str) -> list[tuple[str, str]]:
    return [(f.entity, f.value) for f in extractor.extract(text)]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("订单20261122153045001234没到", "20261122153045001234"),
        ("KM2026112200017", "KM2026112200017"),
        ("单号km2026112200017。", "KM2026112200017"),
        ("order DJ7F3K9Q2M5X8R1T please", "DJ7F3K9Q2M5X8R1T"),
        ("訂單號：DJ7F3K9Q2M5X8R1T，謝謝", "DJ7F3K9Q2M5X8R1T"),
    ],
)
def test_order_numbers_are_found_next_to_chinese_text_and_punctuation(extractor, text, value):
    assert found(extractor, text) == [("order_id", value)]


def test_offsets_point_into_the_original_text(extractor):
    text = "你好，订单 KM2026112200017 的卡密无效"
    (entity,) = extractor.extract(text)
    assert text[entity.start : entity.end] == "KM2026112200017"
    assert entity.as_dict()["extractor"] == "regex"


@pytest.mark.parametrize(
    "text",
    [
        "KM20261122000171",
        "xKM2026112200017",
        "123456789012345",
        "DJ7F3K9Q2M5X8R1",
        "手机13812345678",
    ],
)
def test_near_misses_are_not_order_numbers(extractor, text):
    assert "order_id" not in [e for e, _ in found(extractor, text)]


def test_order_number_formats_come_from_configuration():
    extractor = EntityExtractor(order_id_patterns=[r"\bSHOP-\d{6}\b"])
    assert found(extractor, "订单SHOP-123456到哪了") == [("order_id", "SHOP-123456")]
    assert found(extractor, "KM2026112200017") == []


def test_email_phone_card_key_and_amount_are_extracted(extractor):
    text = "邮箱tom.w@gmail.com 手机+86 13812345678 卡密ABCDE-12345-FGHIJ 扣了¥98.50"
    assert found(extractor, text) == [
        ("email", "tom.w@gmail.com"),
        ("phone", "+86 13812345678"),
        ("card_key", "ABCDE-12345-FGHIJ"),
        ("amount", "¥98.50"),
    ]


def test_chinese_amounts_are_mapped_to_digits_by_synonyms(extractor):
    assert found(extractor, "充了五十块没到") == [("amount", "50元")]
    assert found(extractor, "充了100块钱") == [("amount", "100元")]
    assert found(extractor, "charged 25 USD twice") == [("amount", "25 USD")]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("游戏ID填错了，正确的是58392017", "58392017"),
        ("i typed the wrong game id, it should be Zk_Hunter99", "Zk_Hunter99"),
        ("充值账号：wxid_abc123", "wxid_abc123"),
        ("uid 800123456 没收到", "800123456"),
    ],
)
def test_recharge_accounts_are_found_after_account_keywords(extractor, text, value):
    assert found(extractor, text) == [("account", value)]


def test_an_order_number_after_an_account_keyword_stays_an_order_number(extractor):
    assert found(extractor, "账号 20261122153045001234") == [("order_id", "20261122153045001234")]


def test_extraction_is_linear_on_hostile_input(extractor):
    text = "1" * 50_000 + "a@" * 10_000 + "-ABCD" * 5_000
    assert isinstance(extractor.extract(text), list)
