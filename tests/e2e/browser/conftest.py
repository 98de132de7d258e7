"""The customer's chat page in a real browser: the app served by uvicorn on a free port (in a
thread, with the e2e fakes and the suite's database), driven in Debian's headless Chromium
through Playwright. Playwright uses the system binary; nothing is downloaded (`make test`
installs the `chromium` package). A missing browser fails the run, it never skips.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, BrowserContext, Page, Request, expect, sync_playwright

from kamidesk.app import create_app

CHROMIUM = Path(os.environ.get("KAMIDESK_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
]
STORE = "kamidesk.chat.conversation"  # chat.js keeps the conversation id under this key

# Tests of the page alone (not of what the bot stores) run on SQLite only; the others run on
# both databases through the suite's `db_url` parametrisation.
sqlite_only = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)

# A shared 2-core machine can be slow; these are waits for the page, not performance checks.
expect.set_options(timeout=15_000)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One headless Chromium per test module (the system's, never a downloaded one)."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"{CHROMIUM} is missing: the browser tests need Debian's chromium package "
            "(`make install` installs it, or `apt-get install chromium`)"
        )
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield instance
        instance.close()


def _free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@pytest.fixture
def live_server(container, jobs, chatbot) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """The real app on http://127.0.0.1:<free port> until the test ends."""
    app = create_app(container=container)
    sock = _free_socket()
    config = uvicorn.Config(
        app, ws="none", log_level="warning", lifespan="on", timeout_graceful_shutdown=3
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="chat-server", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the app did not start")
        time.sleep(0.02)
    host, port = sock.getsockname()
    yield f"http://{host}:{port}"
    server.should_exit = True
    thread.join(15)
    sock.close()
    assert not thread.is_alive(), "the app did not stop"


@dataclass
class Chat:
    """The chat page as a customer uses it, plus what the test needs to look at."""

    page: Page
    context: BrowserContext
    requests: list[Request] = field(default_factory=list)

    @property
    def log(self):  # type: ignore[no-untyped-def]
        return self.page.locator("#log")

    def say(self, text: str) -> None:
        box = self.page.get_by_role("textbox")  # found by its label, as a screen reader does
        box.fill(text)
        box.press("Enter")

    def messages(self, sender: str, text: str | None = None):  # type: ignore[no-untyped-def]
        found = self.page.locator(f"#log .msg.from-{sender}:not(.welcome) .text")
        return found.filter(has_text=text) if text is not None else found

    def wait_for(self, sender: str, text: str) -> str:
        """Wait for a message from `sender` containing `text`; its whole text."""
        found = self.messages(sender, text)
        expect(found).to_have_count(1)
        return found.text_content() or ""

    def button(self, title: str):  # type: ignore[no-untyped-def]
        return self.page.locator("#log .choice", has_text=title)

    @property
    def conversation_id(self) -> str | None:
        value = self.page.evaluate(f"localStorage.getItem({STORE!r})")
        return str(value) if value else None

    def reload(self) -> None:
        self.page.reload()
        self.page.wait_for_load_state()

    def api_calls(self, method: str, path_part: str) -> list[Request]:
        return [r for r in self.requests if r.method == method and path_part in r.url]


@pytest.fixture
def open_chat(browser: Browser, live_server: str) -> Iterator[Callable[..., Chat]]:
    """Open /chat in a fresh browser profile: `open_chat(locale="zh-CN", viewport=...)`."""
    contexts: list[BrowserContext] = []
    errors: list[str] = []

    def open_page(locale: str = "en-US", **options: object) -> Chat:
        context = browser.new_context(locale=locale, **options)  # type: ignore[arg-type]
        contexts.append(context)
        page = context.new_page()
        chat = Chat(page, context)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("request", lambda request: chat.requests.append(request))
        page.goto(f"{live_server}/chat")
        expect(page.locator("#log .welcome")).to_have_count(1)
        return chat

    yield open_page
    for context in contexts:
        context.close()
    assert errors == [], "the page raised errors"
