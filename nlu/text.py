"""Text clean-up for classification (entity offsets always refer to the original text)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

_SPACES = re.compile(r"\s+")
_REPEATS = re.compile(r"(.)\1{3,}")

# Placeholders that replace extracted entities before classification, so the classifier sees
# "an order number" rather than the digits of one particular order number.
PLACEHOLDERS = {
    "order_id": " #oid# ",
    "email": " #email# ",
    "phone": " #phone# ",
    "card_key": " #key# ",
    "amount": " #amt# ",
    "account": " #acct# ",
}


def has_content(text: str) -> bool:
    """True when the text has at least one letter, digit or CJK character."""
    return any(unicodedata.category(ch)[0] in ("L", "N") for ch in text)


def mask(text: str, spans: Iterable[tuple[int, int, str]]) -> str:
    """Replace `(start, end, entity)` spans of `text` by entity placeholders."""
    out: list[str] = []
    cursor = 0
    for start, end, entity in sorted(spans):
        if start < cursor:
            continue
        out.append(text[cursor:start])
        out.append(PLACEHOLDERS.get(entity, " "))
        cursor = end
    out.append(text[cursor:])
    return "".join(out)


def normalize(text: str) -> str:
    """NFKC (full-width to half-width), casefold, drop control/format characters, squeeze."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = "".join(
        " " if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn") else ch for ch in text
    )
    # "！！！！！" and "哈哈哈哈哈哈" carry no more signal than three of them.
    text = _REPEATS.sub(r"\1\1\1", text)
    return _SPACES.sub(" ", text).strip()
