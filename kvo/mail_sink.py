"""A local SMTP server that keeps every mail as an .eml file (for `make run` and tests).

``python -m kvo mail sink`` listens on 127.0.0.1:8025 (the worker's default SMTP
settings) and writes each message to ``var/mail/<time>-<n>.eml``: a newcomer sees
every mail the assistant sends without a real mail server. Nothing is relayed.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller


class FileSinkHandler:
    """aiosmtpd handler: store the raw message, report the file name."""

    def __init__(self, directory: Path, on_saved: Callable[[Path], None] | None = None) -> None:
        self.directory = directory
        self.on_saved = on_saved
        self._counter = itertools.count(1)
        self._lock = threading.Lock()

    async def handle_DATA(
        self, server: Any, session: Any, envelope: Any
    ) -> str:  # aiosmtpd's hook name
        self.directory.mkdir(parents=True, exist_ok=True)
        with self._lock:
            number = next(self._counter)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        path = self.directory / f"{stamp}-{number:04d}.eml"
        content = envelope.original_content or envelope.content
        path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
        if self.on_saved is not None:
            self.on_saved(path)
        return "250 Message accepted for delivery"


def start_sink(
    directory: Path,
    host: str = "127.0.0.1",
    port: int = 8025,
    on_saved: Callable[[Path], None] | None = None,
) -> Controller:
    """Start the sink in a background thread; call ``.stop()`` on the result to end it."""
    controller = Controller(FileSinkHandler(directory, on_saved), hostname=host, port=port)
    controller.start()
    return controller
