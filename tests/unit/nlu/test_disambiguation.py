"""nlu.disambiguation: "did you mean A or B?" when the two best intents are close."""

from __future__ import annotations

from dataclasses import replace

import pytest

from nlu import FALLBACK_INTENT, EmbeddedParser, NLUConfig, disambiguation, set_default_parser


def ranked(*pairs: tuple[str, float]) -> dict:
    ranking = [{"name": name, "confidence": conf} for name, conf in pairs]
    return {"text": "x", "intent": dict(ranking[0]), "intent_ranking": ranking, "entities": []}


@pytest.fixture(autouse=True)
def _no_installed_parser():
    set_default_parser(None)
    yield
    set_default_parser(None)


def test_close_top_two_are_offered_best_first():
    result = ranked(("refund_request", 0.46), ("refund_status", 0.41), ("faq", 0.05))
    assert disambiguation(result, margin=0.1) == ("refund_request", "refund_status")


def test_a_clear_winner_is_not_questioned():
    result = ranked(("refund_request", 0.70), ("refund_status", 0.25))
    assert disambiguation(result, margin=0.1) is None


def test_the_margin_is_inclusive_and_configurable():
    result = ranked(("order_status", 0.55), ("payment_issue", 0.35))
    assert disambiguation(result, margin=0.2) == ("order_status", "payment_issue")
    assert disambiguation(result, margin=0.19) is None


def test_out_of_scope_is_never_a_button():
    assert disambiguation(ranked(("out_of_scope", 0.45), ("faq", 0.44)), margin=0.2) is None
    assert disambiguation(ranked(("faq", 0.45), ("out_of_scope", 0.44)), margin=0.2) is None


def test_below_the_fallback_threshold_two_close_real_intents_still_get_buttons():
    result = ranked(
        (FALLBACK_INTENT, 0.3), ("cancel_order", 0.28), ("refund_request", 0.27), ("faq", 0.1)
    )
    assert disambiguation(result, margin=0.05) == ("cancel_order", "refund_request")


def test_a_second_intent_below_the_floor_is_not_offered():
    result = ranked((FALLBACK_INTENT, 0.3), ("faq", 0.12), ("complaint", 0.11))
    assert disambiguation(result, margin=0.1, min_confidence=0.15) is None
    assert disambiguation(result, margin=0.1, min_confidence=0.1) == ("faq", "complaint")


@pytest.mark.parametrize(
    "result",
    [
        {},
        {"intent_ranking": []},
        {"intent_ranking": None},
        ranked(("greet", 1.0)),
        ranked((FALLBACK_INTENT, 1.0)),
        {"intent_ranking": ["junk", 3]},
    ],
    ids=["empty", "no-ranking", "none", "one-intent", "nothing-to-classify", "junk"],
)
def test_results_without_two_real_intents_give_none(result):
    assert disambiguation(result, margin=1.0) is None


def test_defaults_come_from_nlu_config():
    default = NLUConfig()
    gap = default.disambiguation_margin
    close = ranked(("refund_request", 0.5), ("refund_status", 0.5 - gap))
    apart = ranked(("refund_request", 0.5), ("refund_status", 0.5 - gap - 0.01))
    assert disambiguation(close) == ("refund_request", "refund_status")
    assert disambiguation(apart) is None


def test_the_installed_parsers_config_sets_the_margin(embedded: EmbeddedParser):
    result = ranked(("refund_request", 0.7), ("refund_status", 0.3))
    assert disambiguation(result) is None
    wide = EmbeddedParser(embedded.model, replace(embedded.config, disambiguation_margin=0.5))
    set_default_parser(wide)
    assert disambiguation(result) == ("refund_request", "refund_status")


@pytest.mark.parametrize("field", ["disambiguation_margin", "disambiguation_min_confidence"])
@pytest.mark.parametrize("value", [-0.1, 1.5])
def test_out_of_range_settings_are_refused(field, value):
    with pytest.raises(ValueError, match=field):
        NLUConfig(**{field: value})


def test_a_bare_refund_is_asked_about(embedded: EmbeddedParser):
    # "refund" alone could be asking for one or asking where one is: the calibrated ranking
    # splits it between the two, which is what the buttons are for.
    assert disambiguation(embedded.parse("refund")) == ("refund_request", "refund_status")


def test_clear_messages_are_not_asked_about(embedded: EmbeddedParser):
    for text in ("我要退款", "where is my refund", "转人工", "my top up is still pending"):
        assert disambiguation(embedded.parse(text)) is None, text
