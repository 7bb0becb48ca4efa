"""A real SMTP server for the mail tests (plain helpers; the fixture is in conftest.py)."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

from aiosmtpd.controller import Controller

from kvo.mail_sink import start_sink


@dataclass
class SmtpSink:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 storing mails as .eml files."""

    port: int
    directory: Path
    controller: Controller | None = None

    def start(self) -> None:
        self.controller = start_sink(self.directory, "127.0.0.1", self.port)

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def messages(self) -> list[EmailMessage]:
        parsed = []
        for path in sorted(self.directory.glob("*.eml")):
            message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
            parsed.append(message)  # type: ignore[arg-type]
        return parsed


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
