"""The web chat: a public JSON API (no shop token; a customer is anonymous until they prove an
order) and the page at `/chat` that uses it.

    POST /api/v1/chat/conversations  {"user": {"name", "language"}}? -> 201 {"conversation_id"}
    POST /api/v1/chat/messages       {"conversation_id", "text" | "payload"} -> the replies
    GET  /api/v1/chat/conversations/{id}/messages?after=<cursor> -> {"messages", "cursor"}
    GET  /api/v1/chat/conversations/{id}/stream?after=<cursor>   -> text/event-stream

The conversation id is unguessable and is the page's only credential. Everything the bot does
happens in `DialogueEngine`; this module only translates HTTP.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from fastapi.responses import FileResponse, HTMLResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, model_validator
from starlette.concurrency import run_in_threadpool

from bot.engine import DialogueEngine, Incoming, TooManyRequests, UnknownConversation
from bot.models import Channel

STATIC = Path(__file__).parent / "static"
CONVERSATION_ID = r"^[A-Za-z0-9_-]{16,64}$"
POLL_SECONDS = 1.0

api = APIRouter(prefix="/api/v1/chat", tags=["web chat"])
page = APIRouter(include_in_schema=False)


def engine(request: Request) -> DialogueEngine:
    bot = getattr(request.app.state, "bot", None)
    if bot is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "the chatbot is not running")
    return bot  # type: ignore[no-any-return]


EngineDep = Annotated[DialogueEngine, Depends(engine)]


def client_ip(request: Request) -> str | None:
    """The caller's address (behind a proxy, uvicorn's --proxy-headers sets it from
    X-Forwarded-For for trusted proxies only, so a client cannot choose it)."""
    return request.client.host if request.client else None


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ChatUser(_Body):
    name: str | None = Field(default=None, max_length=120)
    language: str | None = Field(
        default=None, max_length=35, pattern=r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8})*$"
    )


class NewConversation(_Body):
    user: ChatUser | None = None


class ConversationCreated(BaseModel):
    conversation_id: str


class ChatMessageIn(_Body):
    conversation_id: str = Field(pattern=CONVERSATION_ID)
    text: str | None = Field(default=None, min_length=1, max_length=2000)
    payload: str | None = Field(default=None, min_length=1, max_length=64)

    @model_validator(mode="after")
    def _one_of(self) -> ChatMessageIn:
        if (self.text is None) == (self.payload is None):
            raise ValueError("send either text or a button payload")
        if self.text is not None and not self.text.strip():
            raise ValueError("text must not be blank")
        if self.text is not None and "\x00" in self.text:
            raise ValueError("text must not contain NUL characters")
        return self


class ButtonOut(BaseModel):
    title: str
    payload: str


class ReplyOut(BaseModel):
    id: int | None = None
    text: str
    buttons: list[ButtonOut]


class ChatReplies(BaseModel):
    conversation_id: str
    replies: list[ReplyOut]


class MessageOut(BaseModel):
    id: int
    from_: Literal["customer", "bot", "agent"] = Field(alias="from")
    text: str
    buttons: list[ButtonOut]
    at: datetime
    name: str | None = None

    model_config = ConfigDict(populate_by_name=True)


class MessagesOut(BaseModel):
    messages: list[MessageOut]
    cursor: int


@api.post("/conversations", status_code=201, response_model=ConversationCreated)
async def start_conversation(
    request: Request, bot: EngineDep, body: NewConversation | None = None
) -> ConversationCreated:
    """Open a conversation (rate-limited per client address)."""
    user = body.user if body and body.user else ChatUser()
    try:
        info = await run_in_threadpool(
            lambda: bot.start(
                channel=Channel.WEB,
                language=user.language,
                name=user.name,
                client_ip=client_ip(request),
            )
        )
    except TooManyRequests as exc:
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, str(exc)) from None
    return ConversationCreated(conversation_id=info.id)


@api.post("/messages", response_model=ChatReplies)
async def send_message(request: Request, body: ChatMessageIn, bot: EngineDep) -> ChatReplies:
    """Send text or a tapped button's payload; the bot's replies come back at once."""
    incoming = Incoming(text=body.text, payload=body.payload, client_ip=client_ip(request))
    try:
        replies = await run_in_threadpool(bot.handle, body.conversation_id, incoming)
    except UnknownConversation:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such conversation") from None
    except TooManyRequests as exc:
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, str(exc)) from None
    return ChatReplies(
        conversation_id=body.conversation_id,
        replies=[
            ReplyOut(
                id=r.id,
                text=r.text,
                buttons=[ButtonOut(title=b.title, payload=b.payload) for b in r.buttons],
            )
            for r in replies
        ],
    )


def conversation_path(conversation_id: str) -> str:
    """A path id that cannot be a conversation is simply not found."""
    if not re.fullmatch(CONVERSATION_ID, conversation_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such conversation")
    return conversation_id


ConversationPath = Annotated[str, Depends(conversation_path)]
After = Annotated[int, Query(ge=0, le=2**31 - 1)]


def _messages(bot: DialogueEngine, conversation_id: str, after: int) -> MessagesOut:
    if bot.transcripts.get(conversation_id) is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such conversation")
    rows = bot.transcripts.messages(conversation_id, after=after)
    return MessagesOut(
        messages=[
            MessageOut(
                id=m.id,
                **{"from": m.sender},
                text=m.text,
                buttons=[ButtonOut(**b) for b in m.buttons],
                at=m.at,
                name=m.sender_name,
            )
            for m in rows
        ],
        cursor=rows[-1].id if rows else after,
    )


@api.get("/conversations/{conversation_id}/messages", response_model=MessagesOut)
async def list_messages(
    conversation_id: ConversationPath, bot: EngineDep, after: After = 0
) -> MessagesOut:
    """The transcript after `after` (a message id), oldest first; keys appear masked."""
    return await run_in_threadpool(_messages, bot, conversation_id, after)


@api.get(
    "/conversations/{conversation_id}/stream",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "Server-sent events: `id: <message id>` and `data: <MessageOut>`",
            "content": {
                "text/event-stream": {
                    "schema": {
                        "type": "string",
                        "description": "one event per new message, data as in MessageOut",
                    }
                }
            },
        }
    },
)
async def stream_messages(
    request: Request, conversation_id: ConversationPath, bot: EngineDep, after: After = 0
) -> StreamingResponse:
    """Server-sent events: each new message as `data: {...}` (same shape as the list)."""
    first = await run_in_threadpool(_messages, bot, conversation_id, after)

    async def events() -> AsyncIterator[str]:
        cursor, batch = after, first
        while True:
            for message in batch.messages:
                yield f"id: {message.id}\ndata: {message.model_dump_json(by_alias=True)}\n\n"
            cursor = batch.cursor
            if await request.is_disconnected():
                return
            yield ": keep-alive\n\n"
            await asyncio.sleep(POLL_SECONDS)
            batch = await run_in_threadpool(_messages, bot, conversation_id, cursor)

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


# The page loads only its own script and stylesheet and talks only to this server: a message
# that somehow reached the page as HTML still could not run a script or send anything away.
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; base-uri 'none'; form-action 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


@page.get("/chat", response_class=HTMLResponse)
async def chat_page() -> FileResponse:
    return FileResponse(
        STATIC / "chat.html", media_type="text/html; charset=utf-8", headers=PAGE_HEADERS
    )


@page.get("/chat/static/{name}")
async def chat_static(name: str) -> FileResponse:
    allowed = {"chat.js": "text/javascript", "chat.css": "text/css"}
    if name not in allowed:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "not found")
    return FileResponse(
        STATIC / name,
        media_type=f"{allowed[name]}; charset=utf-8",
        headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache"},
    )
