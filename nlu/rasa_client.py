"""The Rasa backend: `POST {RASA_URL}/model/parse?token=...` with a timeout.

When Rasa is down (connection error, timeout, 5xx) the parser either falls back to another
parser (normally the embedded one) or raises `RasaUnavailableError`. A rejected token always
raises `RasaAuthError`: that is a configuration mistake, not an outage.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

import httpx

from nlu.config import FALLBACK_INTENT
from nlu.errors import RasaAuthError, RasaResponseError, RasaUnavailableError
from nlu.result import ParseResult

log = logging.getLogger(__name__)


class _Parser(Protocol):
    def parse(self, text: str) -> ParseResult: ...


class RasaParser:
    """Client for a Rasa 3.x server started with `--enable-api`."""

    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        timeout: float = 3.0,
        max_chars: int = 2000,
        fallback: _Parser | None = None,
        client: httpx.Client | None = None,
        async_client: httpx.AsyncClient | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.max_chars = max_chars
        self.fallback = fallback
        self.fallbacks_used = 0
        self._client = client or httpx.Client(timeout=timeout)
        self._async_client = async_client

    def _request_args(self, text: str) -> dict[str, Any]:
        params = {"token": self.token} if self.token else {}
        return {
            "url": f"{self.url}/model/parse",
            "params": params,
            "json": {"text": text[: self.max_chars]},
            "timeout": self.timeout,
        }

    def parse(self, text: str) -> ParseResult:
        """Parse via Rasa; fall back or raise when Rasa is unavailable."""
        if not isinstance(text, str):
            raise TypeError(f"text must be str, not {type(text).__name__}")
        try:
            response = self._client.post(**self._request_args(text))
        except httpx.HTTPError as exc:
            return self._unavailable(text, f"{type(exc).__name__}: {exc}")
        return self._handle(text, response)

    async def aparse(self, text: str) -> ParseResult:
        """Async twin of `parse` (uses an `httpx.AsyncClient`)."""
        if not isinstance(text, str):
            raise TypeError(f"text must be str, not {type(text).__name__}")
        if self._async_client is None:
            self._async_client = httpx.AsyncClient(timeout=self.timeout)
        try:
            response = await self._async_client.post(**self._request_args(text))
        except httpx.HTTPError as exc:
            return self._unavailable(text, f"{type(exc).__name__}: {exc}")
        return self._handle(text, response)

    def _handle(self, text: str, response: httpx.Response) -> ParseResult:
        if response.status_code in (401, 403):
            raise RasaAuthError(
                f"Rasa at {self.url} rejected the token (HTTP {response.status_code}); "
                "check RASA_TOKEN and the server's --auth-token"
            )
        if response.status_code >= 500:
            return self._unavailable(text, f"HTTP {response.status_code}")
        if response.status_code != 200:
            raise RasaResponseError(
                f"Rasa answered HTTP {response.status_code}: {response.text[:200]}"
            )
        try:
            body = response.json()
        except ValueError as exc:
            raise RasaResponseError(f"Rasa answered non-JSON: {response.text[:200]}") from exc
        return normalize_rasa_result(body, text)

    def _unavailable(self, text: str, reason: str) -> ParseResult:
        if self.fallback is None:
            raise RasaUnavailableError(f"Rasa at {self.url} is unavailable ({reason})")
        self.fallbacks_used += 1
        log.warning("Rasa at %s unavailable (%s); using the fallback parser", self.url, reason)
        return self.fallback.parse(text)

    def close(self) -> None:
        """Close the synchronous HTTP client (use `aclose` after `aparse`)."""
        self._client.close()

    async def aclose(self) -> None:
        """Close both HTTP clients."""
        self._client.close()
        if self._async_client is not None:
            await self._async_client.aclose()


def normalize_rasa_result(body: object, text: str) -> ParseResult:
    """Validate Rasa's answer and give it the same shape as the embedded parser's."""
    if not isinstance(body, dict) or not isinstance(body.get("intent"), dict | None):
        raise RasaResponseError(f"not a parse result: {str(body)[:200]}")
    intent = body.get("intent") or {}
    name = intent.get("name") or FALLBACK_INTENT  # Rasa answers name=None for empty text
    confidence = float(intent.get("confidence") or (1.0 if name == FALLBACK_INTENT else 0.0))
    ranking = [
        {"name": str(item["name"]), "confidence": float(item.get("confidence", 0.0))}
        for item in body.get("intent_ranking") or []
        if isinstance(item, dict) and item.get("name")
    ] or [{"name": name, "confidence": confidence}]
    return {
        "text": text,
        "intent": {"name": name, "confidence": confidence},
        "intent_ranking": ranking,
        "entities": _dedupe_entities(body.get("entities") or []),
    }


def _dedupe_entities(entities: list[Any]) -> list[dict[str, Any]]:
    """DIET and the regex extractor may both find a span; keep one (the regex one)."""
    chosen: dict[tuple[Any, Any, Any], dict[str, Any]] = {}
    for ent in entities:
        if not isinstance(ent, dict):
            continue
        key = (ent.get("entity"), ent.get("start"), ent.get("end"))
        if key not in chosen or ent.get("extractor") == "RegexEntityExtractor":
            chosen[key] = ent
    return sorted(chosen.values(), key=lambda e: (e.get("start") or 0, e.get("end") or 0))
