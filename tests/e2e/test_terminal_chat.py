"""`kamidesk chat` talks to the app through the web chat API (here the TestClient)."""

from __future__ import annotations

from bot.channels.terminal import TerminalChat
from tests.integration.bot.shop import EMAIL, KEY_ORDER, delivered_key, key_shop


def test_the_terminal_chat_proves_an_order_and_taps_a_numbered_button(client, uow, suppliers):
    key_shop(uow, suppliers)
    lines: list[str] = []
    chat = TerminalChat("", language="en", out=lines.append, client=client)
    chat.start()
    chat.send(f"status of {KEY_ORDER}")
    chat.send(EMAIL)
    assert any(delivered_key(uow) in line for line in lines)
    number = next(i for i, (title, _) in enumerate(chat.buttons, 1) if "Refund" in title)
    chat.send(str(number))
    assert any("> Refund" in line for line in lines) and "Go ahead?" in lines[-3]
    chat.poll()  # nothing new arrived: nothing is shown twice
    assert sum(delivered_key(uow) in line for line in lines) == 1
