"""Pushing stored messages to a channel that cannot be polled (Telegram): proactive notices,
later an agents' replies. The rows are the truth: a message stored with delivery PENDING is
sent once, in order per conversation, retried with backoff, and marked; nothing lives only in
memory, so a restart loses nothing.

Several senders may run at once (the channel's own loop, the job runner, other app processes).
Each message is first *claimed* with one conditional UPDATE (`Transcripts.claim_push`): only
when it is due and is the oldest pending message of its conversation; the claim makes it not
due for a lease. So two senders never both send it, and a conversation's messages go out in
order: a later one waits until the earlier one is sent or given up. A failure is retried with
backoff (`Transcripts.mark_pushed`); a permanent one (the customer blocked the bot) is given up
at once. The remaining gap is a crash between the channel accepting a message and the row being
marked: after the lease it is sent again (at least once, never lost; Telegram's Bot API has no
idempotency key).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from enum import Enum
from functools import partial

from bot.models import Channel
from bot.transcript import ConversationInfo, StoredMessage, Transcripts

log = logging.getLogger(__name__)

Send = Callable[[ConversationInfo, StoredMessage], Awaitable[None]]


class Outcome(Enum):
    SENT = "sent"
    RETRY = "retry"
    GAVE_UP = "gave_up"


class Pusher:
    """Sends what is due for one channel; `push_pending` is idempotent and safe to run from
    several places at once."""

    def __init__(
        self,
        transcripts: Transcripts,
        channel: Channel,
        send: Send,
        *,
        permanent: tuple[type[BaseException], ...] = (),
        lease: float = 120.0,
    ) -> None:
        self.transcripts = transcripts
        self.channel = channel
        self._send = send
        self._permanent = permanent
        self._lease = lease
        self._lock = asyncio.Lock()  # one pass at a time in this process (saves claims)

    async def push_pending(self) -> int:
        """Send every due pending message; returns how many were sent."""
        async with self._lock:
            due = await asyncio.to_thread(self.transcripts.pending_pushes)
            sent = 0
            for conversation_id in dict.fromkeys(cid for _, cid in due):
                sent += await self._push_conversation(conversation_id)
            return sent

    async def _push_conversation(self, conversation_id: str) -> int:
        conversation = await asyncio.to_thread(self.transcripts.get, conversation_id)
        if conversation is None or conversation.channel != self.channel:
            return 0  # another channel's (none pushes but Telegram today)
        sent = 0
        for message in await asyncio.to_thread(self.transcripts.push_queue, conversation_id):
            claim = partial(self.transcripts.claim_push, message.id, lease=self._lease)
            if not await asyncio.to_thread(claim):
                break  # not due, being sent elsewhere, or an earlier one is still pending
            outcome = await self._push_one(conversation, message)
            mark = partial(
                self.transcripts.mark_pushed,
                message.id,
                ok=outcome is Outcome.SENT,
                give_up=outcome is Outcome.GAVE_UP,
            )
            await asyncio.to_thread(mark)
            if outcome is Outcome.RETRY:
                break  # the later messages wait for this one
            if outcome is Outcome.SENT:
                sent += 1
        return sent

    async def _push_one(self, conversation: ConversationInfo, message: StoredMessage) -> Outcome:
        try:
            await self._send(conversation, message)
        except self._permanent as exc:
            log.warning("message %s not delivered, not retried: %s", message.id, exc)
            return Outcome.GAVE_UP
        except Exception as exc:
            log.warning("pushing message %s failed, will retry: %s", message.id, exc)
            return Outcome.RETRY
        return Outcome.SENT

    async def run_forever(self, every: float) -> None:
        """Push what is due every `every` seconds until cancelled."""
        while True:
            try:
                await self.push_pending()
            except Exception:
                log.exception("pushing pending %s messages failed", self.channel)
            await asyncio.sleep(every)
