"""Consistency checks for the training data (used by `kamidesk nlu check-data` and tests)."""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path

from nlu.text import normalize
from nlu.training_data import load_training_data


def check_training_data(
    train: Path, test: Path, *, minimum: int = 40
) -> tuple[list[str], dict[str, int]]:
    """Problems found (empty when fine) and the number of examples per intent."""
    data = load_training_data([train])
    held_out = load_training_data([test])
    counts = Counter(ex.intent for ex in data.examples)
    problems = [
        f"intent {intent} has {n} examples (< {minimum})"
        for intent, n in sorted(counts.items())
        if n < minimum
    ]
    intents_by_text: dict[str, set[str]] = defaultdict(set)
    for ex in data.examples:
        intents_by_text[normalize(ex.text)].add(ex.intent)
    problems += [
        f"{text!r} is labelled with several intents: {sorted(intents)}"
        for text, intents in intents_by_text.items()
        if len(intents) > 1
    ]
    leaked = sorted({normalize(ex.text) for ex in held_out.examples} & set(intents_by_text))
    problems += [f"test example {text!r} also appears in the training data" for text in leaked]
    missing = sorted({ex.intent for ex in held_out.examples} - set(counts))
    problems += [f"test intent {intent} has no training data" for intent in missing]
    return problems, dict(counts)
