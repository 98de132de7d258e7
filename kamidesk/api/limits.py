"""Request body size limits: 413 before a body is read whole.

A declared `Content-Length` over the limit is refused without reading a byte; a chunked body is
counted as it arrives and cut off at the first chunk past the limit. Routes may get a larger
limit of their own (the key-file upload). FastAPI's built-in `max_body_size` does the counting
too, but it replaces every answer to an oversized declared body with a plain-text 413, which
would break the one error shape (`kamidesk.api.problems`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kamidesk.api.problems import error_body


class BodyTooLarge(HTTPException):
    """The body passed its limit (an HTTPException, so FastAPI's body reading lets it through)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than {limit} bytes")


class BodyLimit:
    """ASGI middleware: `default` bytes per body, or the limit of the first matching path."""

    def __init__(
        self, app: ASGIApp, *, default: int, overrides: Sequence[tuple[str, int]] = ()
    ) -> None:
        self.app = app
        self.default = default
        self.overrides = [(re.compile(pattern), limit) for pattern, limit in overrides]

    def limit_for(self, path: str) -> int:
        """The byte limit for a request to `path`."""
        for pattern, limit in self.overrides:
            if pattern.match(path):
                return limit
        return self.default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await self._refuse(scope, receive, send, limit)  # the body is never read
            return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            # Usually FastAPI turned it into the 413 already; this covers readers outside it.
            if started:
                raise
            await self._refuse(scope, receive, send, limit)

    @staticmethod
    async def _refuse(scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        body = error_body("too_large", f"the request body is larger than {limit} bytes")
        # Connection: close, so the server need not read the rest of the refused body.
        response = JSONResponse(body, status_code=413, headers={"Connection": "close"})
        await response(scope, receive, send)
