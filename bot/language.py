"""Which language to answer in: zh-CN, zh-TW (Traditional) or en.

A customer who types any Chinese is answered in Chinese (people mix in English words, rarely the
reverse); Traditional characters get Traditional replies (the zh-CN templates converted with
zhconv). Text without letters (an order number, an emoji) keeps the conversation's language.
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache
from pathlib import Path

import zhconv
import zhconv.zhconv as _zhconv

LANGUAGES = ("zh-CN", "zh-TW", "en")
TEMPLATE_LANGUAGES = ("zh", "en")

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
# Tokens that say nothing about the language: order numbers, emails, keys, numbers, urls.
_NEUTRAL = re.compile(r"\S*\d\S*|\S+@\S+|https?://\S+")
_LATIN = re.compile(r"[A-Za-z]{2,}")


_loaded = threading.Lock()


def _load_dictionary() -> None:
    # zhconv's own loader leaves its data file open (a ResourceWarning); hand it the path so it
    # reads the file with a context manager instead. Loaded once, on first use.
    with _loaded:
        if _zhconv.zhcdicts is None:
            _zhconv.loaddict(str(Path(zhconv.__file__).parent / "zhcdict.json"))


def detect(text: str, current: str | None = None) -> str | None:
    """The language of `text`, or `current` when the text does not tell."""
    sample = _NEUTRAL.sub(" ", text[:500])
    cjk = "".join(_CJK.findall(sample))
    if cjk:
        return "zh-TW" if _is_traditional(cjk) else "zh-CN"
    if _LATIN.search(sample):
        return "en"
    return current


def _is_traditional(cjk: str) -> bool:
    _load_dictionary()
    simplified = zhconv.convert(cjk, "zh-hans")
    changed = sum(a != b for a, b in zip(cjk, simplified, strict=False))
    return changed > 0 and changed * 10 >= len(cjk)  # one odd character is not enough


def from_locale(code: str | None) -> str | None:
    """A browser or Telegram language code (`zh-Hant-TW`, `zh_CN`, `en-US`) -> ours."""
    if not code:
        return None
    low = code.replace("_", "-").lower()
    if low.startswith("zh"):
        return "zh-TW" if any(t in low for t in ("tw", "hk", "mo", "hant")) else "zh-CN"
    if low.startswith("en"):
        return "en"
    return None


def template_language(language: str | None) -> str:
    """Which template file serves `language` (zh-TW is rendered from zh and converted)."""
    return "zh" if (language or "").startswith("zh") else "en"


@lru_cache(maxsize=4096)
def to_traditional(text: str) -> str:
    """Simplified -> Traditional (Taiwan usage)."""
    _load_dictionary()
    return zhconv.convert(text, "zh-tw")
