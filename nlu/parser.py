"""The `Parser` port, the factory that picks a backend, and the lazy module-level default."""

from __future__ import annotations

import threading
from typing import Protocol

from nlu.config import NLUConfig
from nlu.embedded import EmbeddedParser
from nlu.rasa_client import RasaParser
from nlu.result import ParseResult

BACKENDS = ("embedded", "rasa")


class Parser(Protocol):
    """Anything that turns text into a Rasa-shaped parse result."""

    def parse(self, text: str) -> ParseResult: ...

    async def aparse(self, text: str) -> ParseResult: ...


def build_parser(config: NLUConfig | None = None, *, backend: str | None = None) -> Parser:
    """The embedded parser, or a Rasa client when `backend="rasa"` / `config.rasa_url` is set.

    A Rasa client falls back to the embedded parser when Rasa is down, unless
    `config.rasa_fallback_to_embedded` is False (then it raises RasaUnavailableError).
    """
    config = config or NLUConfig()
    backend = backend or ("rasa" if config.rasa_url else "embedded")
    if backend not in BACKENDS:
        raise ValueError(f"unknown NLU backend {backend!r}; choose from {BACKENDS}")
    if backend == "embedded":
        return EmbeddedParser.load_or_train(config)
    if not config.rasa_url:
        raise ValueError("the rasa backend needs RASA_URL (config.rasa_url)")
    fallback = EmbeddedParser.load_or_train(config) if config.rasa_fallback_to_embedded else None
    return RasaParser(
        config.rasa_url,
        token=config.rasa_token,
        timeout=config.rasa_timeout,
        max_chars=config.max_chars,
        fallback=fallback,
    )


_lock = threading.Lock()
_default: Parser | None = None


def get_default_parser() -> Parser:
    """The process-wide parser, built on first use from the environment."""
    global _default
    with _lock:
        if _default is None:
            _default = build_parser(NLUConfig.from_env())
        return _default


def set_default_parser(parser: Parser | None) -> None:
    """Install the parser `parse()` uses (wiring and tests); None resets to lazy default."""
    global _default
    with _lock:
        _default = parser


def parse(text: str) -> ParseResult:
    """Parse `text` with the default parser."""
    return get_default_parser().parse(text)
