from __future__ import annotations

import time

from knowledge_base.text import MAX_QUESTION_CHARS, Tokenizer, clean, is_chinese, mask, stem


def test_clean_removes_markup_urls_and_emoji():
    text = "<b>Hi</b> 😀 see https://evil.example/x?y=1 **now** &amp; then"
    assert clean(text) == "hi see now then"


def test_clean_of_non_text_is_empty():
    assert clean(None) == ""
    assert clean(12345) == ""
    assert clean(["a"]) == ""


def test_clean_bounds_the_length_of_huge_input():
    assert len(clean("refund " * 100_000)) <= MAX_QUESTION_CHARS


def test_clean_folds_full_width_characters():
    assert clean("ＳＴＥＡＭ　卡") == "steam 卡"


def test_mask_hides_keys_order_numbers_phones_and_emails():
    masked = mask("key ABCDE-12345-FGHIJ order KM2024112233445 phone 13812345678 a@b.com")
    assert "ABCDE" not in masked and "13812345678" not in masked and "a@b.com" not in masked
    assert "KM2024" not in masked
    assert masked.count("***") == 4


def test_mask_keeps_ordinary_words():
    assert mask("how do I get a refund for my top-up order") == (
        "how do I get a refund for my top-up order"
    )


def test_language_guess():
    assert is_chinese("卡密已被使用 steam")
    assert not is_chinese("my steam key is used")
    assert not is_chinese("")


def test_stemmer_folds_plurals_and_ing_forms():
    assert stem("refunds") == "refund"
    assert stem("redeeming") == "redeem"
    assert stem("key") == "key"


def test_chinese_without_spaces_is_segmented_into_words(tokenizer: Tokenizer):
    terms = tokenizer.tokens("我买的卡密提示已被使用", "zh")
    assert "卡密" in terms
    assert "已使用" in terms  # 已被使用 is a synonym of the canonical 已使用
    assert "的" not in terms


def test_chinese_synonyms_meet_the_same_canonical_term(tokenizer: Tokenizer):
    assert "卡密" in tokenizer.tokens("激活码", "zh")
    assert "卡密" in tokenizer.tokens("兑换码", "zh")
    assert "退款" in tokenizer.tokens("退钱", "zh")


def test_english_phrases_map_to_canonical_terms(tokenizer: Tokenizer):
    assert tokenizer.tokens("how do I get my money back", "en") == ["refund"]
    assert "already_used" in tokenizer.tokens("it was already redeemed", "en")
    assert "key" in tokenizer.tokens("activation code", "en")


def test_latin_words_inside_chinese_use_the_english_path(tokenizer: Tokenizer):
    terms = tokenizer.tokens("App Store充值卡怎么兑换", "zh")
    assert "app_store" in terms
    assert "兑换" in terms


def test_tokenizing_the_largest_input_is_fast(tokenizer: Tokenizer):
    start = time.perf_counter()
    tokenizer.tokens("卡密" * 50_000, "zh")
    tokenizer.tokens("key " * 50_000, "en")
    assert time.perf_counter() - start < 1.0


def test_traditional_characters_are_folded_to_simplified():
    assert clean("兌換碼怎麼辦") == "兑换码怎么办"
