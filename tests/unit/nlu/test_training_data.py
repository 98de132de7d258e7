from __future__ import annotations

import re
from pathlib import Path

import pytest

from nlu import ENTITIES, INTENTS
from nlu.checks import check_training_data
from nlu.config import TEST_DATA_FILE, TRAIN_DATA_DIR
from nlu.errors import TrainingDataError
from nlu.training_data import (
    fingerprint,
    load_training_data,
    parse_annotated,
    parse_document,
)

CJK = re.compile(r"[\u4e00-\u9fff]")
LATIN = re.compile(r"[a-zA-Z]{2,}")


def test_inline_annotations_become_plain_text_with_offsets():
    text, spans = parse_annotated("订单[KM2026112200017](order_id)的卡密[AB-12](card_key:x)用不了")
    assert text == "订单KM2026112200017的卡密AB-12用不了"
    assert [(s.entity, text[s.start : s.end], s.value) for s in spans] == [
        ("order_id", "KM2026112200017", "KM2026112200017"),
        ("card_key", "AB-12", "x"),
    ]


def test_json_annotations_carry_entity_and_value():
    text, spans = parse_annotated('充[五十块]{"entity": "amount", "value": "50元"}')
    assert text == "充五十块"
    assert spans[0].entity == "amount" and spans[0].value == "50元"


def test_a_broken_json_annotation_is_a_training_data_error():
    with pytest.raises(TrainingDataError):
        parse_annotated("x [y]{not json}")


def test_documents_with_regex_lookup_and_synonym_items_are_read():
    data = parse_document(
        {
            "version": "3.1",
            "nlu": [
                {"intent": "greet", "examples": "- hi\n- 你好\n"},
                {"intent": "deny", "examples": [{"text": "no"}]},
                {"regex": "phone", "examples": "- 1\\d{10}\n"},
                {"lookup": "amount", "examples": "- 十元\n"},
                {"synonym": "10元", "examples": "- 十块\n"},
            ],
        }
    )
    assert [(e.text, e.intent) for e in data.examples] == [
        ("hi", "greet"),
        ("你好", "greet"),
        ("no", "deny"),
    ]
    assert data.regexes == {"phone": ["1\\d{10}"]}
    assert data.lookups == {"amount": ["十元"]}
    assert data.synonyms == {"十块": "10元"}


@pytest.mark.parametrize(
    "document",
    [
        ["not", "a", "mapping"],
        {"nlu": "not a list"},
        {"nlu": [{"intent": "greet", "examples": "hi without dash"}]},
        {"nlu": [{"something": "else", "examples": "- x"}]},
        {"nlu": [{"intent": "greet", "examples": 42}]},
    ],
)
def test_malformed_documents_raise_training_data_errors(document):
    with pytest.raises(TrainingDataError):
        parse_document(document, "bad.yml")


def test_a_missing_path_and_bad_yaml_are_training_data_errors(tmp_path: Path):
    with pytest.raises(TrainingDataError, match="not found"):
        load_training_data([tmp_path / "nope.yml"])
    bad = tmp_path / "bad.yml"
    bad.write_text("nlu: [unclosed", encoding="utf-8")
    with pytest.raises(TrainingDataError, match="cannot read"):
        load_training_data([bad])


def test_the_fingerprint_changes_when_the_data_changes(tmp_path: Path):
    path = tmp_path / "nlu.yml"
    path.write_text('version: "3.1"\nnlu: []\n', encoding="utf-8")
    before = fingerprint([tmp_path])
    assert fingerprint([tmp_path]) == before
    path.write_text('version: "3.1"\nnlu:\n- intent: greet\n  examples: "- hi"\n', "utf-8")
    assert fingerprint([tmp_path]) != before
    assert fingerprint([tmp_path], "other-model") != fingerprint([tmp_path])


def test_every_intent_has_at_least_40_examples_and_the_test_set_is_held_out():
    problems, counts = check_training_data(TRAIN_DATA_DIR, TEST_DATA_FILE, minimum=40)
    assert problems == []
    assert set(counts) == set(INTENTS)


def test_every_intent_is_taught_in_both_chinese_and_english():
    data = load_training_data([TRAIN_DATA_DIR])
    for intent in INTENTS:
        texts = [e.text for e in data.examples if e.intent == intent]
        assert sum(bool(CJK.search(t)) for t in texts) >= 15, intent
        assert sum(bool(LATIN.search(t)) and not CJK.search(t) for t in texts) >= 8, intent


def test_annotated_entities_use_only_the_known_entity_names():
    for path in (TRAIN_DATA_DIR, TEST_DATA_FILE):
        data = load_training_data([path])
        names = {s.entity for e in data.examples for s in e.entities}
        assert names <= set(ENTITIES)
        assert "order_id" in names


def test_the_test_set_covers_every_intent_with_several_examples():
    examples = load_training_data([TEST_DATA_FILE]).examples
    for intent in INTENTS:
        assert sum(e.intent == intent for e in examples) >= 10, intent
