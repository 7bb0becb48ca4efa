"""socket.io scenarios against a running engine, run with the engine's Python (it has the client).

Usage: socketio_scenarios.py <engine url> <allowed origin>. Prints one JSON object with what each
scenario observed; tests/conversation/test_channels.py asserts on it. No mocks: a real
python-socketio client talks to the real engine.
"""

from __future__ import annotations

import asyncio
import json
import sys

import socketio

WAIT = 15.0


class Visitor:
    def __init__(self, url: str, origin: str) -> None:
        self.url = url
        self.origin = origin
        self.client = socketio.AsyncClient(reconnection=False)
        self.confirmed: asyncio.Queue = asyncio.Queue()
        self.uttered: asyncio.Queue = asyncio.Queue()
        self.client.on("session_confirm", self._on_confirm)
        self.client.on("bot_uttered", self._on_uttered)

    async def _on_confirm(self, data):
        await self.confirmed.put(data)

    async def _on_uttered(self, data):
        await self.uttered.put(data)

    async def connect(self) -> None:
        await self.client.connect(
            self.url, headers={"Origin": self.origin}, transports=["polling"], wait_timeout=10
        )

    async def session(self, wanted=None) -> str:
        await self.client.emit("session_request", {"session_id": wanted})
        return await asyncio.wait_for(self.confirmed.get(), WAIT)

    async def say(self, text: str, session_id=None) -> list[dict]:
        await self.client.emit("user_uttered", {"message": text, "session_id": session_id})
        messages = [await asyncio.wait_for(self.uttered.get(), WAIT)]
        while True:
            try:
                messages.append(await asyncio.wait_for(self.uttered.get(), 1.0))
            except asyncio.TimeoutError:  # noqa: UP041 - runs on Python 3.10
                return messages


async def main(url: str, origin: str) -> dict:
    seen: dict = {}
    foreign = Visitor(url, "http://evil.example")
    try:
        await foreign.connect()
        seen["foreign_origin_connected"] = True
        await foreign.client.disconnect()
    except socketio.exceptions.ConnectionError:
        seen["foreign_origin_connected"] = False

    alice = Visitor(url, origin)
    await alice.connect()
    alice_id = await alice.session()
    seen["alice_id"] = alice_id
    seen["faq"] = await alice.say("wat kost het keurmerk?", alice_id)
    seen["status"] = await alice.say("status KVO-2024-0031", alice_id)

    mallory = Visitor(url, origin)
    await mallory.connect()
    seen["forged_id"] = await mallory.session("forged-session")
    signature_changed = alice_id[:-2] + ("AA" if not alice_id.endswith("AA") else "BB")
    seen["tampered_id"] = await mallory.session(signature_changed)
    # Mallory claims Alice's session in the message itself: the server ignores that.
    seen["mallory_reply"] = await mallory.say("hallo", alice_id)
    try:
        seen["alice_got"] = [await asyncio.wait_for(alice.uttered.get(), 2.0)]
    except asyncio.TimeoutError:  # noqa: UP041 - runs on Python 3.10
        seen["alice_got"] = []
    await mallory.client.disconnect()
    await alice.client.disconnect()

    # Alice comes back (page reload) with her id: same session, same conversation.
    back = Visitor(url, origin)
    await back.connect()
    seen["alice_back_id"] = await back.session(alice_id)
    await back.client.disconnect()
    return seen


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(sys.argv[1], sys.argv[2]))))
