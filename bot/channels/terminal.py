"""`kamidesk chat`: talk to the bot from a terminal, through the web chat's API of a running
kamidesk (`make demo` by default), so it is the same engine a customer meets.

Buttons are numbered; type the number to tap one. Messages that arrive later (a delivery notice,
an agent's reply) are shown before the next prompt. `/new` starts a new conversation, `/quit`
(or Ctrl-D) leaves.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

Printer = Callable[[str], None]


class ChatUnavailable(RuntimeError):
    """The server cannot be reached or refused the conversation."""


@dataclass
class TerminalChat:
    base_url: str
    language: str | None = None
    name: str | None = None
    out: Printer = print
    client: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=30))
    conversation_id: str | None = None
    cursor: int = 0
    buttons: list[tuple[str, str]] = field(default_factory=list)
    seen: set[int] = field(default_factory=set)

    def start(self) -> None:
        user = {k: v for k, v in (("name", self.name), ("language", self.language)) if v}
        try:
            response = self.client.post(
                f"{self.base_url}/api/v1/chat/conversations", json={"user": user} if user else None
            )
        except httpx.HTTPError as exc:
            raise ChatUnavailable(f"cannot reach {self.base_url}: {exc}") from None
        if response.status_code != 201:
            raise ChatUnavailable(f"{response.status_code}: {response.text[:200]}")
        self.conversation_id = response.json()["conversation_id"]
        self.cursor, self.buttons, self.seen = 0, [], set()

    def send(self, line: str) -> None:
        """Send a line (a button's number taps that button)."""
        line = line.strip()
        if not line:
            return
        body: dict[str, str] = {"conversation_id": self.conversation_id or ""}
        if line.isdigit() and 1 <= int(line) <= len(self.buttons):
            title, payload = self.buttons[int(line) - 1]
            body["payload"] = payload
            self.out(f"  > {title}")
        else:
            body["text"] = line
        response = self.client.post(f"{self.base_url}/api/v1/chat/messages", json=body)
        if response.status_code != 200:
            self.out(f"  ! {response.status_code}: {response.json().get('detail', '')}")
            return
        self.buttons = []
        for reply in response.json()["replies"]:
            self.seen.add(reply.get("id") or 0)
            self._show("bot", reply["text"], reply["buttons"])

    def poll(self) -> None:
        """Show messages that arrived since (proactive notices, agents' replies)."""
        response = self.client.get(
            f"{self.base_url}/api/v1/chat/conversations/{self.conversation_id}/messages",
            params={"after": self.cursor},
        )
        if response.status_code != 200:
            return
        data = response.json()
        for message in data["messages"]:
            if message["id"] not in self.seen and message["from"] != "customer":
                self.seen.add(message["id"])
                self._show(
                    message.get("name") or message["from"], message["text"], message["buttons"]
                )
        self.cursor = data["cursor"]

    def _show(self, who: str, text: str, buttons: list[dict[str, str]]) -> None:
        self.out(f"{who}: {text}")
        for button in buttons:
            self.buttons.append((button["title"], button["payload"]))
            self.out(f"  [{len(self.buttons)}] {button['title']}")


def run(base_url: str, *, language: str | None, name: str | None) -> int:
    """The interactive loop; returns the exit status."""
    chat = TerminalChat(base_url.rstrip("/"), language=language, name=name)
    try:
        chat.start()
    except ChatUnavailable as exc:
        print(f"error: {exc}\nIs kamidesk running? Start the demo with `make demo`.")
        return 1
    print("Connected. Type a message, a button's number, /new or /quit.")
    while True:
        chat.poll()
        try:
            line = input("you: ")
        except (EOFError, KeyboardInterrupt):
            print()
            return 0
        if line.strip() in ("/quit", "/exit"):
            return 0
        if line.strip() == "/new":
            chat.start()
            print("New conversation.")
            continue
        chat.send(line)
