"""A real SMTP server for the tests: aiosmtpd on a free loopback port, recording what it accepts."""

import asyncio
import socket
import threading
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller


@dataclass(frozen=True)
class Received:
    """One accepted message: the envelope and the parsed email."""

    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage

    @property
    def subject(self) -> str:
        """The Subject header."""
        return str(self.message["Subject"])

    @property
    def notice_id(self) -> int:
        """The outbox row the message came from."""
        return int(str(self.message["X-Tracker-Notice"]))

    def part(self, subtype: str) -> str:
        """The text/plain or text/html body."""
        body = self.message.get_body(preferencelist=(subtype,))
        assert body is not None
        assert body.get_content_type() == f"text/{subtype}"
        return str(body.get_content())

    @property
    def lines(self) -> list[str]:
        """The plain-text body's lines."""
        return self.part("plain").splitlines()


@dataclass
class Recorder:
    """The aiosmtpd handler: refuses the addresses in `refuse` (550), keeps every accepted message."""

    messages: list[Received] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)
    delay_s: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(  # noqa: N802  aiosmtpd finds its hooks by these upper-case names
        self,
        server: Any,
        session: Any,
        envelope: Any,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802  aiosmtpd's hook name
        if self.delay_s:
            await asyncio.sleep(self.delay_s)  # a slow server, so concurrent senders overlap
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        with self.lock:
            self.messages.append(
                Received(mail_from=envelope.mail_from, rcpt_tos=list(envelope.rcpt_tos), message=message)
            )
        return "250 Message accepted for delivery"


def free_port() -> int:
    """A port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class SmtpServer:
    """aiosmtpd on 127.0.0.1:port; `stop` and `start` take it down and bring it back on the same port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.recorder = Recorder()
        self._controller: Controller | None = None

    @property
    def url(self) -> str:
        """TRACKER_SMTP_URL for this server."""
        return f"smtp://127.0.0.1:{self.port}"

    @property
    def messages(self) -> list[Received]:
        """Every message accepted so far."""
        return self.recorder.messages

    def start(self) -> None:
        """Listen (again)."""
        self._controller = Controller(self.recorder, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        """Stop listening: connections are refused until `start`."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def to(self, address: str) -> list[Received]:
        """The messages sent to one address, in order."""
        return [m for m in self.messages if address in m.rcpt_tos]
