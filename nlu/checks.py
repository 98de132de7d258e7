"""Consistency checks for the training data (used by `kamidesk nlu check-data` and tests)."""

from __future__ import annotations

import csv
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path

from nlu.errors import TrainingDataError
from nlu.text import normalize
from nlu.training_data import load_training_data

_NOT_WORD = re.compile(r"[\W_]+")


def leak_key(text: str) -> str:
    """What two sentences share when one is a copy of the other: normalized text without
    spaces and punctuation ("Where's my refund?!" and "wheres my refund" are the same)."""
    return _NOT_WORD.sub("", unicodedata.normalize("NFKC", normalize(text)))


def held_out_texts(path: Path) -> list[str]:
    """Sentences of a held-out file: Rasa YAML, or TSV whose last column is the text."""
    if path.suffix in (".tsv", ".txt"):
        try:
            with path.open(encoding="utf-8", newline="") as fh:
                return [row[-1] for row in csv.reader(fh, delimiter="\t") if row]
        except (OSError, UnicodeDecodeError) as exc:
            raise TrainingDataError(f"cannot read {path}: {exc}") from exc
    return [ex.text for ex in load_training_data([path]).examples]


def check_training_data(
    train: Path,
    test: Path,
    *,
    minimum: int = 40,
    blind: Sequence[Path] = (),
) -> tuple[list[str], dict[str, int]]:
    """Problems found (empty when fine) and the number of examples per intent.

    `test` is the held-out file and `blind` the blind test files (written by someone who never
    saw the training data): none of their sentences may appear in the training data, also not
    with different case, spacing or punctuation.
    """
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
    trained = {leak_key(text) for text in intents_by_text} - {""}
    problems += [
        f"test example {text!r} also appears in the training data"
        for text in _leaked((ex.text for ex in held_out.examples), trained)
    ]
    for path in blind:
        problems += [
            f"blind example from {path.name} appears in the training data: {text!r}"
            for text in _leaked(held_out_texts(path), trained)
        ]
    missing = sorted({ex.intent for ex in held_out.examples} - set(counts))
    problems += [f"test intent {intent} has no training data" for intent in missing]
    return problems, dict(counts)


def _leaked(texts: Iterable[str], trained: set[str]) -> list[str]:
    return sorted({normalize(text) for text in texts if leak_key(text) in trained})
