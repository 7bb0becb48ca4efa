from __future__ import annotations

from api.schemas.common import Out


class TokenOut(Out):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret
    expires_in: int


class MeOut(Out):
    id: int
    username: str
    role: str
