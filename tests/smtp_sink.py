"""A real SMTP server for tests (aiosmtpd, in a thread of the test process): it counts the messages
it accepts and can refuse the first N with a 4xx or 5xx answer, or answer slowly.

    with SmtpSink(fail_first=3, fail_code=451) as sink:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", sink.port
        ...
        assert sink.count == 1
"""

import asyncio
import email
import socket
import threading
import time
from email.message import Message

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class _Handler:
    def __init__(self, sink: "SmtpSink"):
        self.sink = sink

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 - aiosmtpd's hook name
        if self.sink.delay:
            await asyncio.sleep(self.sink.delay)
        return self.sink._receive(envelope)


class SmtpSink:
    def __init__(self, *, fail_first: int = 0, fail_code: int = 451, delay: float = 0.0, port: int | None = None):
        self.fail_first = fail_first
        self.fail_code = fail_code
        self.delay = delay
        self.port = port or free_port()
        self.attempts = 0  # DATA commands seen, refused or not
        self.refused = 0
        self._messages: list[tuple[list[str], bytes]] = []
        self._lock = threading.Lock()
        self._controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port)

    def _receive(self, envelope) -> str:
        with self._lock:
            self.attempts += 1
            if self.refused < self.fail_first:
                self.refused += 1
                kind = "Try again later" if self.fail_code < 500 else "Refused"
                return f"{self.fail_code} {kind} (test sink)"
            self._messages.append((list(envelope.rcpt_tos), envelope.original_content or envelope.content))
        return "250 OK"

    def start(self) -> "SmtpSink":
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def __enter__(self) -> "SmtpSink":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def count(self) -> int:
        with self._lock:
            return len(self._messages)

    def recipients(self) -> list[str]:
        """One entry per accepted message and recipient (a duplicate shows twice)."""
        with self._lock:
            return [rcpt for rcpts, _data in self._messages for rcpt in rcpts]

    def messages(self) -> list[Message]:
        with self._lock:
            return [email.message_from_bytes(data) for _rcpts, data in self._messages]

    def wait_for(self, count: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.count >= count:
                return True
            time.sleep(0.1)
        return self.count >= count
