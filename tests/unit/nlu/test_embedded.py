from __future__ import annotations

import pickle
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from nlu import FALLBACK_INTENT, INTENTS, EmbeddedParser, NLUConfig
from nlu.embedded import cache_path, model_key

HOSTILE = [
    "",
    "   \n\t ",
    "😀😀😀🔥🔥",
    "\x00\x01\x02\x1b[31m\u200b\u202e",
    "'; DROP TABLE orders; --",
    "<script>alert('x')</script><img src=x onerror=alert(1)>",
    "退款" * 50_000,
    "a" * 100_000,
    "KM2026112200017 " * 6_000,
    "\ud800 lone surrogate",
]


def assert_rasa_shape(result: dict, text: str) -> None:
    assert result["text"] == text
    assert set(result) >= {"text", "intent", "intent_ranking", "entities"}
    assert isinstance(result["intent"]["name"], str)
    assert 0.0 <= result["intent"]["confidence"] <= 1.0
    assert result["intent_ranking"][0] == result["intent"]
    assert len(result["intent_ranking"]) <= 11
    for ent in result["entities"]:
        assert set(ent) >= {"entity", "value", "start", "end", "extractor"}
        assert 0 <= ent["start"] < ent["end"] <= len(text)


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("我的订单到哪了", "order_status"),
        ("卡密显示已被使用", "key_invalid"),
        ("话费充了还没到账", "recharge_not_arrived"),
        ("我要退款", "refund_request"),
        ("退款什么时候到账", "refund_status"),
        ("付款了订单还显示未付款", "payment_issue"),
        ("帮我取消订单", "cancel_order"),
        ("充值号码填错了", "wrong_account"),
        ("能开发票吗", "invoice_request"),
        ("转人工", "human_agent"),
        ("KM2026112200017", "inform_order"),
        ("where is my refund", "refund_status"),
        ("i was charged twice", "payment_issue"),
        ("the key doesn't work", "key_invalid"),
        ("你好", "greet"),
        ("谢谢", "thanks"),
    ],
)
def test_clear_messages_get_the_right_intent(embedded, text, intent):
    result = embedded.parse(text)
    assert_rasa_shape(result, text)
    assert result["intent"]["name"] == intent


@pytest.mark.parametrize(
    "text",
    [
        "what's the weather like in berlin tomorrow",
        "can you recommend a pasta recipe",
        "who won the champions league",
        "帮我写一首关于春天的诗",
        "明天深圳天气怎么样",
        "给我推荐一个好看的动漫",
    ],
)
def test_off_topic_requests_are_out_of_scope_with_confidence(embedded, text):
    # out_of_scope is a class learned from real off-topic requests, not a low-confidence bin.
    result = embedded.parse(text)
    assert result["intent"]["name"] == "out_of_scope"
    assert result["intent"]["confidence"] >= 0.6


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("hey there, how's your day going?", "greet"),
        ("早上好，最近还好吗", "greet"),
        ("i paid twice for the same order", "payment_issue"),
        ("my phone top up is still pending", "recharge_not_arrived"),
        ("充值一直显示处理中", "recharge_not_arrived"),
    ],
)
def test_customers_phrasing_outside_our_own_is_understood(embedded, text, intent):
    assert embedded.parse(text)["intent"]["name"] == intent


def test_confidences_are_probabilities(embedded):
    ranking = embedded.parse("my key is invalid and i want a refund")["intent_ranking"]
    assert 0.99 <= sum(item["confidence"] for item in ranking) <= 1.0 + 1e-6


def test_the_ranking_lists_known_intents_best_first(embedded):
    ranking = embedded.parse("卡密用不了，给我退款")["intent_ranking"]
    confidences = [item["confidence"] for item in ranking]
    assert confidences == sorted(confidences, reverse=True)
    assert {item["name"] for item in ranking} <= {*INTENTS, FALLBACK_INTENT}


def test_entities_come_back_with_the_intent(embedded):
    text = "订单KM2026112200017的卡密ABCD-EFGH-IJKL-MNOP用不了"
    result = embedded.parse(text)
    assert result["intent"]["name"] == "key_invalid"
    assert [(e["entity"], e["value"]) for e in result["entities"]] == [
        ("order_id", "KM2026112200017"),
        ("card_key", "ABCD-EFGH-IJKL-MNOP"),
    ]


def test_below_the_threshold_the_intent_is_nlu_fallback(embedded, nlu_config):
    strict = EmbeddedParser(embedded.model, replace(nlu_config, fallback_threshold=1.0))
    result = strict.parse("我的订单到哪了")
    assert result["intent"] == {"name": FALLBACK_INTENT, "confidence": 1.0}
    assert result["intent_ranking"][1]["name"] == "order_status"


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_input_gives_a_valid_result_quickly(embedded, text):
    started = time.perf_counter()
    result = embedded.parse(text)
    assert time.perf_counter() - started < 1.0
    assert_rasa_shape(result, text)


@pytest.mark.parametrize("text", ["", "  ", "😀😀😀", "？！。…", "\x00\x07"])
def test_text_without_letters_or_digits_is_nlu_fallback(embedded, text):
    result = embedded.parse(text)
    assert result["intent"] == {"name": FALLBACK_INTENT, "confidence": 1.0}
    assert result["entities"] == []


def test_only_the_first_max_chars_are_looked_at(embedded):
    text = "我要退款" + " " * 3000 + "KM2026112200017"
    assert embedded.parse(text)["entities"] == []


def test_non_text_input_is_a_type_error(embedded):
    with pytest.raises(TypeError, match="str"):
        embedded.parse(None)  # type: ignore[arg-type]


async def test_aparse_matches_parse(embedded):
    assert await embedded.aparse("转人工") == embedded.parse("转人工")


def test_the_model_is_cached_by_data_hash_and_reloaded(tmp_path: Path, embedded):
    config = NLUConfig(cache_dir=tmp_path)
    path = cache_path(config, model_key(config))
    assert path is not None
    path.write_bytes(pickle.dumps(replace(embedded.model, fingerprint=model_key(config))))
    started = time.perf_counter()
    parser = EmbeddedParser.load_or_train(config)
    assert time.perf_counter() - started < 1.0
    assert parser.parse("转人工")["intent"]["name"] == "human_agent"


def test_a_first_run_trains_and_writes_the_cache(tmp_path: Path):
    config = NLUConfig(cache_dir=tmp_path / "cache")
    parser = EmbeddedParser.load_or_train(config)
    path = cache_path(config, model_key(config))
    assert path is not None and path.exists()
    assert parser.model.fingerprint == model_key(config)


def test_a_corrupt_or_stale_cache_is_rebuilt(tmp_path: Path, embedded):
    config = NLUConfig(cache_dir=tmp_path)
    path = cache_path(config, model_key(config))
    assert path is not None
    path.write_bytes(b"not a pickle")
    parser = EmbeddedParser.load_or_train(config)
    assert parser.model.fingerprint == model_key(config)
    assert pickle.loads(path.read_bytes()).fingerprint == model_key(config)


def test_the_cache_key_depends_on_data_and_order_id_patterns(tmp_path: Path):
    base = NLUConfig(cache_dir=tmp_path)
    other_patterns = replace(base, order_id_patterns=(r"\bX\d{5}\b",))
    data = tmp_path / "d.yml"
    data.write_text('version: "3.1"\nnlu: []\n', encoding="utf-8")
    assert model_key(base) != model_key(other_patterns)
    assert model_key(base) != model_key(replace(base, data_paths=(data,)))


def test_the_compiled_classifier_matches_sklearn(nlu_config):
    from nlu.classifier import CompiledClassifier, IntentClassifier
    from nlu.config import TEST_DATA_FILE, TRAIN_DATA_DIR
    from nlu.embedded import features_for, train_model
    from nlu.training_data import load_training_data

    data = load_training_data([TRAIN_DATA_DIR])
    extractor = train_model(data, nlu_config).extractor
    train = [features_for(ex.text, extractor) for ex in data.examples]
    trained = IntentClassifier().fit(train, [ex.intent for ex in data.examples])
    compiled = trained.compile()
    assert isinstance(compiled, CompiledClassifier)
    texts = [
        features_for(ex.text, extractor) for ex in load_training_data([TEST_DATA_FILE]).examples
    ] + ["", "qqqq zzzz", "#oid#", "a", "ab  c\td", "ＡＢＣ 你"]
    expected = trained.probabilities(texts)
    assert np.allclose(compiled.probabilities(texts), expected, atol=1e-9)
    assert compiled.rank("转人工")[0][0] == trained.rank("转人工")[0][0]


def test_the_compiled_ngrams_are_sklearn_char_wb_ngrams():
    from sklearn.feature_extraction.text import TfidfVectorizer

    from nlu.classifier import CompiledClassifier

    analyzer = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3)).build_analyzer()
    compiled = CompiledClassifier(
        labels=["x"],
        ngram_range=(1, 3),
        vocabulary={},
        idf=np.zeros(0),
        weight=np.zeros((0, 1)),
        bias=np.zeros(1),
        slope=np.ones(1),
        offset=np.zeros(1),
        folds=1,
    )
    for text in ["a", "ab", "abc", "Hello  World", "我的 订单\t#oid#", "", "  x  "]:
        assert compiled.ngrams(text) == analyzer(text)


def test_the_compiled_word_ngrams_are_sklearn_word_ngrams():
    from sklearn.feature_extraction.text import TfidfVectorizer

    from nlu.classifier import EN_WORD_PATTERN, WordFeatures

    analyzer = TfidfVectorizer(ngram_range=(1, 2), token_pattern=EN_WORD_PATTERN).build_analyzer()
    words = WordFeatures(ngram_range=(1, 2), vocabulary={}, idf=np.zeros(0))
    texts = ["I can't pay", "refund #oid# now", "我的 order 到哪了", "", "a", "don't-stop 42x"]
    for text in texts:
        assert words.ngrams(text) == analyzer(text)


def test_loading_a_cached_model_does_not_import_sklearn(tmp_path: Path):
    import subprocess
    import sys

    config = NLUConfig(cache_dir=tmp_path)
    EmbeddedParser.load_or_train(config)
    code = (
        "import sys; from pathlib import Path; from nlu import EmbeddedParser, NLUConfig; "
        f"p = EmbeddedParser.load_or_train(NLUConfig(cache_dir=Path({str(tmp_path)!r}))); "
        "assert p.parse('转人工')['intent']['name'] == 'human_agent'; "
        "print(any(m.startswith('sklearn') for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_other_model_kinds_fall_back_to_sklearn_scoring():
    from nlu.classifier import IntentClassifier

    texts = ["hello", "hi there", "hey", "bye", "goodbye", "see you"] * 2
    labels = ["greet"] * 3 + ["goodbye"] * 3
    classifier = IntentClassifier("logreg").fit(texts, labels * 2)
    assert classifier.compile() is None
    assert classifier.rank("hello")[0][0] == "greet"
