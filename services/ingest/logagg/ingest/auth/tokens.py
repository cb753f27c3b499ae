"""Access and refresh tokens: HS256 JWTs with every registered claim checked.

The algorithm is pinned (a token naming another, ``none`` included, is refused), and
``exp``, ``nbf``, ``iat``, ``iss``, ``aud``, ``sub`` and ``type`` are required. A token
carries no permissions: roles are read from the user store on each request; the
``gen`` claim ties it to the user's current password (see :mod:`.users`).
"""

from __future__ import annotations

import dataclasses
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from enum import StrEnum

import jwt

ALGORITHM = "HS256"
# Clocks of replicas may differ a little.
LEEWAY_SECONDS = 5
# Verified tokens remembered per process: a client posts many times with one token, and
# checking an HMAC signature costs more than the rest of a one-line request's CPU.
VERIFIED_CACHE_SIZE = 4096


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
    not_before: int


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
        self._verified: OrderedDict[tuple[str, TokenType], TokenClaims] = OrderedDict()
        self._lock = threading.Lock()

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
        """The claims of ``token`` if it is valid and of ``token_type``; else raise.

        A token verified before is not verified again, but its lifetime is checked on
        every use. Whether its user still exists is for the caller to check.
        """
        key = (token, token_type)
        with self._lock:
            remembered = self._verified.get(key)
        if remembered is not None:
            now = time.time()
            if now > remembered.expires_at + LEEWAY_SECONDS:
                raise InvalidToken("Signature has expired")
            if now < remembered.not_before - LEEWAY_SECONDS:
                raise InvalidToken("The token is not yet valid (nbf)")
            return remembered
        claims = self._verify(token, token_type)
        with self._lock:
            self._verified[key] = claims
            if len(self._verified) > VERIFIED_CACHE_SIZE:
                self._verified.popitem(last=False)
        return claims

    def _verify(self, token: str, token_type: TokenType) -> TokenClaims:
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
        subject, generation = claims.get("sub"), claims.get("gen")
        expires, not_before = claims.get("exp"), claims.get("nbf")
        if not isinstance(subject, str) or not isinstance(generation, str):
            raise InvalidToken("malformed claims")
        if not isinstance(expires, int) or not isinstance(not_before, int):
            raise InvalidToken("malformed claims")
        return TokenClaims(subject, generation, token_type, expires, not_before)
