"""The parse result: the shape of Rasa's `POST /model/parse` response."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from nlu.config import FALLBACK_INTENT

RANKING_LENGTH = 10  # Rasa's default `ranking_length`

ParseResult = dict[str, Any]


def build_result(
    text: str,
    ranking: Sequence[tuple[str, float]],
    entities: list[dict[str, Any]],
    *,
    threshold: float,
) -> ParseResult:
    """Assemble a result; below `threshold` the intent becomes `nlu_fallback` like Rasa's
    FallbackClassifier (confidence = threshold, prepended to the ranking)."""
    intent_ranking: list[dict[str, Any]] = [
        {"name": name, "confidence": round(conf, 6)} for name, conf in ranking[:RANKING_LENGTH]
    ]
    if not intent_ranking or intent_ranking[0]["confidence"] < threshold:
        fallback: dict[str, Any] = {"name": FALLBACK_INTENT, "confidence": threshold}
        intent_ranking = [fallback, *intent_ranking]
    return {
        "text": text,
        "intent": dict(intent_ranking[0]),
        "intent_ranking": intent_ranking,
        "entities": entities,
    }


def nothing_to_classify(text: str, entities: list[dict[str, Any]]) -> ParseResult:
    """Result for text with no letters or digits at all (empty, emoji, punctuation)."""
    fallback = {"name": FALLBACK_INTENT, "confidence": 1.0}
    return {
        "text": text,
        "intent": dict(fallback),
        "intent_ranking": [fallback],
        "entities": entities,
    }
