"""Who is calling: the bearer token checked against the user store, and the caller's address."""

from __future__ import annotations

import hmac

from flask import request
from redis.client import Pipeline

from logagg.ingest.addresses import client_address
from logagg.ingest.auth.tokens import InvalidToken, TokenClaims, TokenType
from logagg.ingest.auth.users import User, UserStore, user_from_reply
from logagg.ingest.context import current
from logagg.ingest.errors import ApiError


def sender_address() -> str:
    """The caller's address, through trusted proxies only."""
    return client_address(
        request.remote_addr,
        request.headers.get("X-Forwarded-For"),
        current().settings.trusted_proxies,
    )


def bearer_claims(token_type: TokenType) -> TokenClaims:
    """The checked claims of the request's ``Authorization: Bearer`` token, else 401."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(
            401, "missing_token", "an 'Authorization: Bearer <token>' header is required"
        )
    try:
        return current().tokens.check(token.strip(), token_type)
    except InvalidToken as error:
        raise ApiError(401, "invalid_token", f"invalid token: {error}") from error


def user_for(claims: TokenClaims, reply: dict[bytes, bytes]) -> User:
    """The user ``claims`` speak for, if it still exists with the same password; else 401."""
    user = user_from_reply(reply)
    if user is None or not hmac.compare_digest(user.generation, claims.generation):
        raise ApiError(401, "invalid_token", "token revoked: the user was deleted or changed")
    return user


def authenticate(token_type: TokenType = TokenType.ACCESS) -> User:
    """The current user, read from the store now (not trusted from the token)."""
    claims = bearer_claims(token_type)
    with current().redis.pipeline(transaction=False) as pipe:
        queue_user(pipe, claims)
        (reply,) = pipe.execute()
    return user_for(claims, reply)


def queue_user(pipe: Pipeline, claims: TokenClaims) -> None:
    """Queue the lookup of the token's user on ``pipe`` (to share a round trip)."""
    UserStore.queue_get(pipe, claims.subject)


def require_admin() -> User:
    """The current user if an admin; 403 for any other valid user."""
    user = authenticate()
    if not user.is_admin:
        raise ApiError(403, "forbidden", "this route is for admins")
    return user
