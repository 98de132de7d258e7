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
# ASCII only: Chinese has no spaces, so "话费没到DJ2026..." must keep its Chinese part.
_NEUTRAL = re.compile(
    r"https?://[\x21-\x7e]+|[\w.+-]+@[\w.-]+|[A-Za-z0-9_-]*\d[A-Za-z0-9_-]*", re.ASCII
)
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
        return _chinese_script(cjk, current)
    if _LATIN.search(sample):
        return "en"
    return current


def _chinese_script(cjk: str, current: str | None) -> str:
    """zh-TW or zh-CN by the characters only one script has; text written the same in both
    ("好的", "是的") keeps the conversation's script."""
    _load_dictionary()
    traditional = _changed(cjk, zhconv.convert(cjk, "zh-hans"))  # would change if simplified
    simplified = _changed(cjk, zhconv.convert(cjk, "zh-hant"))
    if traditional > simplified:
        return "zh-TW"
    if simplified > traditional:
        return "zh-CN"
    return current if current in ("zh-CN", "zh-TW") else "zh-CN"


def _changed(text: str, converted: str) -> int:
    return sum(a != b for a, b in zip(text, converted, strict=False))


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


@lru_cache(maxsize=4096)
def to_simplified(text: str) -> str:
    """Traditional -> Simplified (the knowledge base's Chinese articles are Simplified)."""
    _load_dictionary()
    return zhconv.convert(text, "zh-hans")
