""" "Did you mean A or B?": the top two intents of a parse result when they are too close to pick.

The dialogue calls `disambiguation(result)` after `parse`; when it returns `(a, b)` it shows two
buttons instead of guessing or falling back. It reads only the Rasa-shaped `intent_ranking`, so
it works the same for the embedded parser and a Rasa server.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nlu.config import FALLBACK_INTENT, NLUConfig

# Never offered as a button: not something a customer can "mean".
NOT_OFFERED = frozenset({FALLBACK_INTENT, "out_of_scope"})
_EPSILON = 1e-9  # confidences are rounded to 6 digits: 0.55 - 0.35 must count as 0.2


def disambiguation(
    result: Mapping[str, Any],
    *,
    margin: float | None = None,
    min_confidence: float | None = None,
) -> tuple[str, str] | None:
    """The two best intents when their confidences differ by at most `margin` and the second
    has at least `min_confidence`; None when the top one is clear enough, or when either of the
    two is `out_of_scope` / `nlu_fallback`.

    Defaults come from the process parser's `NLUConfig` (`disambiguation_margin`,
    `disambiguation_min_confidence`), else from `NLUConfig`'s defaults. `nlu_fallback` is
    skipped in the ranking, so a message below the fallback threshold can still get two
    buttons when two real intents share most of the probability.
    """
    config = _config()
    margin = config.disambiguation_margin if margin is None else margin
    floor = config.disambiguation_min_confidence if min_confidence is None else min_confidence
    ranking = [
        (str(item["name"]), float(item["confidence"]))
        for item in result.get("intent_ranking") or ()
        if isinstance(item, Mapping) and item.get("name") != FALLBACK_INTENT
    ]
    if len(ranking) < 2:
        return None
    (first, p1), (second, p2) = ranking[0], ranking[1]
    if first in NOT_OFFERED or second in NOT_OFFERED or first == second:
        return None
    if p2 < floor - _EPSILON or p1 - p2 > margin + _EPSILON:
        return None
    return first, second


def _config() -> NLUConfig:
    """The installed default parser's config, without building a parser."""
    from nlu import parser as parser_module

    installed = parser_module._default
    config = getattr(installed, "config", None)
    return config if isinstance(config, NLUConfig) else NLUConfig()
