"""Our input channels: REST and socket.io, with the names, paths and events of Rasa's own.

Configured in credentials.yml by module path (`bot.channels.RestInput`, `bot.channels.SocketIOInput`).
Outside contract kept: POST /webhooks/rest/webhook with {"sender", "message"} answers a JSON list
of bot messages; socket.io at /socket.io with `session_request`/`session_confirm`,
`user_uttered`/`bot_uttered` and session persistence. What ours add (bot/turns.py does the turn):

- REST: 400 only for malformed JSON or a bad sender id (pattern in bot/turns.py); bodies over the
  engine's limit get Sanic's 413 before they are read. Everything else is answered with HTTP 200.
- socket.io: only the configured origins, a bounded buffer, session ids issued and signed by the
  server (bot/session_ids.py): a client that asks for an id it did not get from us gets a new
  one, so nobody can join another visitor's room. `bot_uttered` carries `topic` for FAQ answers
  and `sensitive_next: true` when the visitor's next message answers a sensitive question.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.channels.socketio import SocketBlueprint
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncServer

from bot.engine_settings import EngineSettings
from bot.session_ids import is_valid_session_id, issue_session_id
from bot.turns import TurnRunner, valid_sender

logger = logging.getLogger(__name__)

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]


def _client_address(request: Any) -> str | None:
    """The client address as Sanic sees it (forwarded headers only when PROXIES_COUNT is set)."""
    try:
        return request.remote_addr or request.ip
    except Exception:
        return None


def _bad_request(detail: str) -> HTTPResponse:
    return response.json({"detail": detail, "code": "bad_request"}, status=400)


class RestInput(InputChannel):
    """POST /webhooks/rest/webhook {"sender": "...", "message": "..."} -> [bot messages]."""

    @classmethod
    def name(cls) -> str:
        return "rest"

    def __init__(self, settings: EngineSettings | None = None) -> None:
        self.settings = settings or EngineSettings.from_env()
        self.runner = TurnRunner(self.settings, self.name())

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        webhook = Blueprint("pvo_rest_webhook", __name__)

        @webhook.listener("before_server_start")
        async def remember_app(app: Any, _loop: Any) -> None:
            self.runner.app = app

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            try:
                body = json.loads(request.body or b"")
            except (ValueError, UnicodeDecodeError):
                return _bad_request("Het bericht is geen geldige JSON.")
            if not isinstance(body, dict):
                return _bad_request("Het bericht is geen geldige JSON.")
            sender = body.get("sender")
            if not valid_sender(sender):
                return _bad_request("Ongeldige afzender (sender).")
            text = body.get("message")
            if text is None:
                text = ""
            if not isinstance(text, str):
                return _bad_request("Het bericht (message) moet tekst zijn.")
            metadata = body.get("metadata")
            messages = await self.runner.run(
                on_new_message,
                text,
                sender,
                _client_address(request),
                metadata if isinstance(metadata, dict) else None,
            )
            return response.json(messages)

        return webhook


def _socket_messages(message: dict[str, Any]) -> list[dict[str, Any]]:
    """One collected bot message in the shape Rasa's socket.io channel emits."""
    topic = message.get("topic")
    parts: list[dict[str, Any]] = []
    text = message.get("text")
    if text:
        parts = [{"text": part} for part in str(text).strip().split("\n\n")] or [{"text": text}]
        buttons = message.get("buttons")
        if buttons:
            parts[-1]["quick_replies"] = [
                {"content_type": "text", "title": b.get("title"), "payload": b.get("payload")}
                for b in buttons
                if isinstance(b, dict)
            ]
    if message.get("image"):
        parts.append({"attachment": {"type": "image", "payload": {"src": message["image"]}}})
    if message.get("attachment"):
        parts.append({"attachment": message["attachment"]})
    if message.get("custom"):
        parts.append({"custom": message["custom"]})
    if message.get("notice"):
        for part in parts:
            part["notice"] = message["notice"]
    if topic:
        for part in parts:
            part["topic"] = topic
    return parts


class SocketIOInput(InputChannel):
    """socket.io with server-issued, signed session ids."""

    @classmethod
    def name(cls) -> str:
        return "socketio"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        credentials = credentials or {}
        return cls(
            user_message_evt=credentials.get("user_message_evt", "user_uttered"),
            bot_message_evt=credentials.get("bot_message_evt", "bot_uttered"),
            namespace=credentials.get("namespace"),
            session_persistence=bool(credentials.get("session_persistence", True)),
            socketio_path=credentials.get("socketio_path", "/socket.io"),
        )

    def __init__(
        self,
        user_message_evt: str = "user_uttered",
        bot_message_evt: str = "bot_uttered",
        namespace: str | None = None,
        session_persistence: bool = True,
        socketio_path: str = "/socket.io",
        settings: EngineSettings | None = None,
    ) -> None:
        self.user_message_evt = user_message_evt
        self.bot_message_evt = bot_message_evt
        self.namespace = namespace
        self.session_persistence = session_persistence
        self.socketio_path = socketio_path
        self.settings = settings or EngineSettings.from_env()
        self.runner = TurnRunner(self.settings, self.name())
        self.sio: AsyncServer | None = None
        # socket id -> (client address, confirmed session id); dropped on disconnect.
        self._clients: dict[str, dict[str, Any]] = {}

    def get_output_channel(self) -> OutputChannel | None:
        # Messages are emitted by the channel itself after each turn (see handle_message).
        return None

    def _session_for(self, sid: str, wanted: object) -> tuple[str, bool]:
        """The session id for socket `sid`: `wanted` if we issued it, else a new one."""
        if is_valid_session_id(self.settings.session_secret, wanted):
            return str(wanted), False
        return issue_session_id(self.settings.session_secret), True

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        sio = AsyncServer(
            async_mode="sanic",
            cors_allowed_origins=list(self.settings.allowed_origins),
            max_http_buffer_size=self.settings.max_body_bytes,
        )
        self.sio = sio
        webhook = SocketBlueprint(sio, self.socketio_path, "pvo_socketio_webhook", __name__)

        @webhook.listener("before_server_start")
        async def remember_app(app: Any, _loop: Any) -> None:
            self.runner.app = app

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @sio.on("connect", namespace=self.namespace)
        async def connect(sid: str, environ: dict[str, Any], auth: Any = None) -> bool:
            request = environ.get("sanic.request") if isinstance(environ, dict) else None
            self._clients[sid] = {"address": _client_address(request), "session": None}
            return True

        @sio.on("disconnect", namespace=self.namespace)
        async def disconnect(sid: str) -> None:
            self._clients.pop(sid, None)

        async def confirm(sid: str, wanted: object) -> str:
            client = self._clients.setdefault(sid, {"address": None, "session": None})
            session_id, _new = self._session_for(sid, wanted)
            if client["session"] and client["session"] != session_id:
                sio.leave_room(sid, client["session"], namespace=self.namespace)
            client["session"] = session_id
            if self.session_persistence:
                sio.enter_room(sid, session_id, namespace=self.namespace)
            await sio.emit("session_confirm", session_id, room=sid, namespace=self.namespace)
            return session_id

        @sio.on("session_request", namespace=self.namespace)
        async def session_request(sid: str, data: Any = None) -> None:
            wanted = data.get("session_id") if isinstance(data, dict) else None
            await confirm(sid, wanted)

        @sio.on(self.user_message_evt, namespace=self.namespace)
        async def handle_message(sid: str, data: Any = None) -> None:
            if not isinstance(data, dict):
                return
            client = self._clients.get(sid) or {}
            session_id = client.get("session") or await confirm(sid, None)
            text = data.get("message")
            text = text if isinstance(text, str) else ""
            metadata = data.get("metadata")
            if isinstance(metadata, str):
                try:
                    metadata = json.loads(metadata)
                except ValueError:
                    metadata = None
            sender_id = session_id if self.session_persistence else sid
            messages = await self.runner.run(
                on_new_message,
                text,
                sender_id,
                client.get("address"),
                metadata if isinstance(metadata, dict) else None,
            )
            room = session_id if self.session_persistence else sid
            parts = [part for message in messages for part in _socket_messages(message)]
            if parts and self.runner.sensitive_next(sender_id):
                parts[-1]["sensitive_next"] = True
            for part in parts:
                await sio.emit(self.bot_message_evt, part, room=room, namespace=self.namespace)

        return webhook
