"""Chat session ids issued and signed by the server.

A session id is `<random>.<signature>`: the socket.io channel issues it, the widget keeps it, and
the staff API's feedback endpoint checks it. Signed ids mean no client can choose (and so join)
another visitor's conversation. Standard library only: the engine and our app both import this.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

_RANDOM_BYTES = 18
_SIGNATURE_BYTES = 16
# Upper bound on what we even try to verify: a signed id is 24 + 1 + 22 characters.
MAX_SESSION_ID_CHARS = 64


def _signature(secret: str, token: str) -> str:
    digest = hmac.new(secret.encode(), token.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:_SIGNATURE_BYTES]).decode().rstrip("=")


def issue_session_id(secret: str) -> str:
    token = secrets.token_urlsafe(_RANDOM_BYTES)
    return f"{token}.{_signature(secret, token)}"


def is_valid_session_id(secret: str, session_id: object) -> bool:
    """True only for an id this server (holding `secret`) issued."""
    if not isinstance(session_id, str) or len(session_id) > MAX_SESSION_ID_CHARS:
        return False
    token, dot, signature = session_id.partition(".")
    if not dot or not token or not signature:
        return False
    return hmac.compare_digest(signature, _signature(secret, token))
