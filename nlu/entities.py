"""Rule-based entity extraction: configurable order-number regexes, the data's regexes and
lookups, and a keyword rule for recharge accounts. Offsets refer to the original text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

# Lower rank wins when two candidates overlap.
_PRIORITY = {"order_id": 0, "email": 1, "card_key": 2, "phone": 3, "amount": 4, "account": 5}

_ACCOUNT = re.compile(
    r"(?:游戏\s*id|遊戲\s*id|角色\s*id|玩家\s*id|游戏账号|遊戲帳號|账号|帳號|账户|帳戶|"
    r"uid|qq号?|player\s*id|game\s*id|account|acct|\bid\b)"
    r".{0,16}?"
    r"(?<![A-Za-z0-9_.@-])(?P<value>(?=[A-Za-z_.-]*\d)[A-Za-z0-9_][A-Za-z0-9_.-]{3,31})"
    r"(?![A-Za-z0-9_.@-])",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Found:
    """One extracted entity."""

    entity: str
    start: int
    end: int
    value: str
    extractor: str

    def as_dict(self) -> dict[str, object]:
        """The Rasa `/model/parse` entity shape."""
        return {
            "entity": self.entity,
            "start": self.start,
            "end": self.end,
            "value": self.value,
            "extractor": self.extractor,
            "confidence_entity": 1.0,
        }


class EntityExtractor:
    """Regex + lookup + keyword extractor; deterministic and linear in the text length."""

    def __init__(
        self,
        *,
        order_id_patterns: Iterable[str],
        regexes: Mapping[str, Iterable[str]] | None = None,
        lookups: Mapping[str, Iterable[str]] | None = None,
        synonyms: Mapping[str, str] | None = None,
    ) -> None:
        flags = re.ASCII | re.IGNORECASE
        self._patterns: list[tuple[str, re.Pattern[str]]] = [
            ("order_id", re.compile(p, flags)) for p in order_id_patterns
        ]
        for name, patterns in (regexes or {}).items():
            if name == "order_id":
                continue  # order numbers come from configuration, not from the data file
            self._patterns.extend((name, re.compile(p)) for p in patterns)
        self._lookups: list[tuple[str, re.Pattern[str]]] = []
        for name, words in (lookups or {}).items():
            alternatives = sorted({w for w in words if w}, key=len, reverse=True)
            if alternatives:
                joined = "|".join(re.escape(w) for w in alternatives)
                self._lookups.append((name, re.compile(f"(?:{joined})", re.IGNORECASE)))
        self._synonyms = {k.casefold(): v for k, v in (synonyms or {}).items()}

    def extract(self, text: str) -> list[Found]:
        """All non-overlapping entities in `text`, ordered by position."""
        candidates: list[Found] = []
        for name, pattern in self._patterns:
            candidates.extend(
                self._found(name, m.start(), m.end(), text, "regex")
                for m in pattern.finditer(text)
            )
        for name, pattern in self._lookups:
            candidates.extend(
                self._found(name, m.start(), m.end(), text, "lookup")
                for m in pattern.finditer(text)
            )
        for m in _ACCOUNT.finditer(text):
            start, end = m.span("value")
            candidates.append(self._found("account", start, end, text, "keyword"))
        return _resolve(candidates)

    def _found(self, name: str, start: int, end: int, text: str, how: str) -> Found:
        raw = text[start:end]
        value = self._synonyms.get(raw.casefold(), raw)
        if name == "order_id":
            value = value.upper()
        return Found(entity=name, start=start, end=end, value=value, extractor=how)


def _resolve(candidates: list[Found]) -> list[Found]:
    ranked = sorted(
        candidates, key=lambda f: (_PRIORITY.get(f.entity, 9), -(f.end - f.start), f.start)
    )
    taken: list[Found] = []
    for cand in ranked:
        if all(cand.end <= t.start or cand.start >= t.end for t in taken):
            taken.append(cand)
    return sorted(taken, key=lambda f: f.start)
