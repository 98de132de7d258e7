"""Reply templates: every sentence a customer reads lives in `bot/replies/{zh,en}.yml`.

The files have the shape of Rasa's `responses:` — a key, then a text with `{placeholders}` and
optional buttons:

    key_reissued:
      text: "Here is your new key for order {order_no}: {keys}"
      buttons:
        - {title: "It works, thanks", action: "intent:thanks"}

A button's `action` is what the engine does when it is tapped; the engine replaces it with an
opaque token before anything reaches the customer. zh-TW replies are the zh templates converted
to Traditional characters. A test checks that every key exists in both files with the same
placeholders and buttons.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from bot.language import TEMPLATE_LANGUAGES, template_language, to_traditional

REPLIES_DIR = Path(__file__).parent / "replies"


class MissingReply(KeyError):
    """A template key that does not exist (a programming error, caught by the tests)."""


@dataclass(frozen=True)
class TemplateButton:
    title: str
    action: str


@dataclass(frozen=True)
class Rendered:
    text: str
    buttons: tuple[TemplateButton, ...] = field(default_factory=tuple)


@lru_cache(maxsize=4)
def load(language: str) -> dict[str, dict[str, Any]]:
    """The templates of one file (`zh` or `en`)."""
    with (REPLIES_DIR / f"{language}.yml").open(encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    if not isinstance(data, dict):
        raise ValueError(f"{language}.yml must be a mapping of reply keys")
    return {key: _normalise(key, value) for key, value in data.items()}


def _normalise(key: str, value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        return {"text": value, "buttons": []}
    if not isinstance(value, dict) or not isinstance(value.get("text"), str):
        raise ValueError(f"reply {key!r} needs a text")
    return {"text": value["text"], "buttons": list(value.get("buttons") or [])}


def placeholders(text: str) -> set[str]:
    """The `{names}` a template text uses."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


class Replies:
    """Renders templates in the customer's language."""

    def __init__(self) -> None:
        self._files = {lang: load(lang) for lang in TEMPLATE_LANGUAGES}

    def has(self, key: str) -> bool:
        return all(key in self._files[lang] for lang in TEMPLATE_LANGUAGES)

    def render(self, key: str, language: str | None, **values: object) -> Rendered:
        """The reply `key` in `language` (zh-CN, zh-TW or en) with its placeholders filled."""
        file = self._files[template_language(language)]
        if key not in file:
            raise MissingReply(key)
        template = file[key]
        text = template["text"].format_map(_Values(values))
        buttons = tuple(
            TemplateButton(str(b["title"]).format_map(_Values(values)), str(b["action"]))
            for b in template["buttons"]
        )
        if language == "zh-TW":
            text = to_traditional(text)
            buttons = tuple(TemplateButton(to_traditional(b.title), b.action) for b in buttons)
        return Rendered(text.strip(), buttons)

    def text(self, key: str, language: str | None, **values: object) -> str:
        """Only the text of a reply (e.g. a button title or a fragment)."""
        return self.render(key, language, **values).text


class _Values(dict):  # type: ignore[type-arg]
    """Placeholder values; a missing one is a programming error, never silently empty."""

    def __missing__(self, key: str) -> str:
        raise MissingReply(f"placeholder {{{key}}} has no value")
