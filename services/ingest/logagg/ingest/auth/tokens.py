"""Access and refresh tokens: HS256 JWTs with every registered claim checked.

The algorithm is pinned (a token naming another, ``none`` included, is refused), and
``exp``, ``nbf``, ``iat``, ``iss``, ``aud``, ``sub`` and ``type`` are required. A token
carries no permissions: roles are read from the user store on each request; the
``gen`` claim ties it to the user's current password (see :mod:`.users`).
"""

from __future__ import annotations

import dataclasses
import secrets
import time
from collections.abc import Callable
from enum import StrEnum

import jwt

ALGORITHM = "HS256"
# Clocks of replicas may differ a little.
LEEWAY_SECONDS = 5


class TokenType(StrEnum):
    """What a token may be used for; a refresh token is never an access token."""

    ACCESS = "access"
    REFRESH = "refresh"


class InvalidToken(Exception):
    """The token is malformed, forged, expired, not yet valid or of the wrong type."""


@dataclasses.dataclass(frozen=True, slots=True)
class TokenClaims:
    """The checked claims of a token this service issued."""

    subject: str
    generation: str
    type: TokenType
    expires_at: int


class TokenService:
    """Issues and checks tokens with one secret, issuer and audience."""

    def __init__(
        self,
        secret: Callable[[], str],
        *,
        issuer: str,
        audience: str,
        access_ttl: float,
        refresh_ttl: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        # The secret is a callable so that dev mode can fetch its generated key lazily.
        self._secret = secret
        self._issuer = issuer
        self._audience = audience
        self._ttl = {TokenType.ACCESS: access_ttl, TokenType.REFRESH: refresh_ttl}
        self._clock = clock

    @property
    def access_ttl(self) -> int:
        return int(self._ttl[TokenType.ACCESS])

    def issue(self, subject: str, generation: str, token_type: TokenType) -> str:
        """A signed token of ``token_type`` for ``subject``."""
        now = int(self._clock())
        claims = {
            "iss": self._issuer,
            "aud": self._audience,
            "sub": subject,
            "iat": now,
            "nbf": now,
            "exp": now + int(self._ttl[token_type]),
            "jti": secrets.token_urlsafe(12),
            "type": token_type.value,
            "gen": generation,
        }
        return jwt.encode(claims, self._secret(), algorithm=ALGORITHM)

    def check(self, token: str, token_type: TokenType) -> TokenClaims:
        """The claims of ``token`` if it is valid and of ``token_type``; else raise."""
        try:
            claims = jwt.decode(
                token,
                self._secret(),
                algorithms=[ALGORITHM],
                audience=self._audience,
                issuer=self._issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "nbf", "iat", "iss", "aud", "sub", "type", "gen"]},
            )
        except jwt.PyJWTError as error:
            raise InvalidToken(str(error)) from error
        if claims.get("type") != token_type.value:
            raise InvalidToken(f"not an {token_type.value} token")
        subject, generation, expires = claims.get("sub"), claims.get("gen"), claims.get("exp")
        if not isinstance(subject, str) or not isinstance(generation, str):
            raise InvalidToken("malformed claims")
        if not isinstance(expires, int):
            raise InvalidToken("malformed claims")
        return TokenClaims(subject, generation, token_type, expires)
