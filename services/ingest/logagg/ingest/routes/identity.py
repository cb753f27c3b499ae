"""Who is calling: the request's credential checked against the stores, and its address.

One credential check serves every route. ``Authorization: Bearer <JWT>`` is a user's
access token; ``Authorization: Bearer lgk_…`` or ``Authorization: ApiKey lgk_…`` is an
API key (told from a JWT by its prefix); ``Authorization: Basic`` is a user's password.
Each is read against Redis on every request, so a deleted user, a changed password (for
tokens and passwords; keys stay) or a revoked key stops at once.

For a route of another blueprint:

- :func:`writer_for_request` for a route that takes logs: the user (writer or admin) a
  token or an ``ingest`` key speaks for, in one round trip with whatever the route
  queues besides (e.g. the backlog): ``user, (depth, ...) = writer_for_request(queue)``;
- :func:`authenticate` with a ``scope`` for any other route that keys may call;
- :func:`require_admin` for the admin routes (tokens, and keys with the ``admin`` scope);
- :func:`request_credential` then :meth:`Credential.writer` to refuse a missing or bad
  credential (401) before other checks of the request and look the user up later;
- :func:`invalid_credential` for the 401 every refused credential answers.

``Authorization: Basic`` (a user's name and password, for shippers that know no other
way) is taken wherever a key with the ``ingest`` scope is, and only there. It goes
through the login throttle, and a password argon2 accepted is remembered in the process
for a few minutes (:mod:`..auth.verified_passwords`), so a shipper does not pay for a
hash on every request.

Every refused credential, whatever was wrong with it (malformed, forged, expired,
unknown, revoked, its user gone, a wrong password), answers the same 401 body, so an
answer tells nothing about which keys or users exist.
"""

from __future__ import annotations

import dataclasses
import hmac
from collections.abc import Callable
from typing import Any

from flask import request
from redis.client import Pipeline

from logagg.ingest.addresses import client_address
from logagg.ingest.auth.keys import ApiKeyRecord, Scope, decoded, looks_like_key
from logagg.ingest.auth.throttle import LoginThrottled
from logagg.ingest.auth.tokens import InvalidToken, TokenClaims, TokenType
from logagg.ingest.auth.users import USERNAME_PATTERN, Role, User, UserStore, user_from_reply
from logagg.ingest.context import current
from logagg.ingest.errors import ApiError

_WRITERS = frozenset({Role.ADMIN, Role.WRITER})
# A password sent on every request is for shippers: it posts logs and reads receipts.
_BASIC_SCOPES = frozenset({Scope.INGEST})

Queue = Callable[[Pipeline], None]


def sender_address() -> str:
    """The caller's address, through trusted proxies only."""
    return client_address(
        request.remote_addr,
        request.headers.get("X-Forwarded-For"),
        current().settings.trusted_proxies,
    )


def invalid_credential() -> ApiError:
    """The one answer to every credential that does not hold, whatever was wrong."""
    return ApiError(401, "invalid_token", "invalid, expired or revoked credentials")


@dataclasses.dataclass(frozen=True, slots=True)
class Credential:
    """A request's credential, checked as far as it can be without Redis.

    Exactly one of ``claims`` (a token), ``key`` (an API key's record) and ``basic``
    (a name and a password not checked yet) is set.
    """

    claims: TokenClaims | None = None
    key: ApiKeyRecord | None = None
    basic: tuple[str, str] | None = dataclasses.field(default=None, repr=False)

    @property
    def username(self) -> str:
        if self.claims is not None:
            return self.claims.subject
        if self.basic is not None:
            return self.basic[0]
        assert self.key is not None
        return self.key.username

    @property
    def scopes(self) -> frozenset[Scope] | None:
        """What a key or a password may do; ``None`` for a token (whatever its user may)."""
        if self.key is not None:
            return self.key.scopes
        if self.basic is not None:
            return _BASIC_SCOPES
        return None

    def user(self, scope: Scope | None, also: Queue | None = None) -> tuple[User, list[Any]]:
        """The user this credential speaks for, read now, and the replies of what
        ``also`` queued on the same round trip. A key must hold ``scope``; with
        ``scope=None`` the route takes tokens only. 401 or 403 otherwise."""
        scopes = self.scopes
        if scopes is not None and (scope is None or scope not in scopes):
            allowed = (
                "tokens only"
                if scope is None
                else f"tokens, or keys with the {scope.value!r} scope"
            )
            raise ApiError(403, "forbidden", f"this route takes {allowed}")
        context = current()
        with context.redis.pipeline(transaction=False) as pipe:
            UserStore.queue_get(pipe, self.username)
            checks = context.keys.queue_check(pipe, self.key) if self.key is not None else 0
            if also is not None:
                also(pipe)
            reply, *rest = pipe.execute()
        if checks and not rest[0]:
            raise invalid_credential()  # revoked
        return self._holds(reply), rest[checks:]

    def as_admin(self, user: User) -> bool:
        """Whether ``user``, reached through this credential, may act as an admin: a
        token of an admin, or an admin's key with the ``admin`` scope."""
        return user.is_admin and (self.scopes is None or Scope.ADMIN in self.scopes)

    def writer(self, also: Queue | None = None) -> tuple[User, list[Any]]:
        """:meth:`user` for a route that takes logs: a writer or admin, ``ingest`` scope."""
        user, replies = self.user(Scope.INGEST, also)
        if user.role not in _WRITERS:
            raise ApiError(403, "forbidden", "this user may not post logs")
        return user, replies

    def _holds(self, reply: dict[bytes, bytes]) -> User:
        user = user_from_reply(reply)
        if self.basic is not None:
            return _password_holds(self.basic, user)
        if user is None:
            raise invalid_credential()
        if self.claims is not None:
            if not hmac.compare_digest(user.generation, self.claims.generation):
                raise invalid_credential()
            return user
        assert self.key is not None
        # The same name registered again is another user: its keys are not the old ones.
        since = decoded(reply).get("created_at", "")
        if not hmac.compare_digest(since, self.key.owner_since):
            raise invalid_credential()
        if self.key.expired(current().keys.now()):
            raise invalid_credential()
        return user


def _password_holds(basic: tuple[str, str], user: User | None) -> User:
    """``user`` if ``basic`` holds its password: remembered, or verified now (throttled)."""
    context = current()
    username, password = basic
    if user is not None and context.passwords.remembered(username, password, user.password_hash):
        return user
    address = sender_address()
    try:
        context.throttle.begin(username, address)
    except LoginThrottled as error:
        context.metrics.login_failures.labels("throttled").inc()
        context.metrics.refused.labels("429", "login").inc()
        raise ApiError(
            429,
            "too_many_attempts",
            str(error),
            headers={"Retry-After": str(error.retry_after)},
        ) from error
    # Always hash: an unknown name costs as much as a wrong password.
    if context.hashing.verify(user.password_hash if user else None, password) and user:
        context.throttle.record_success(username, address)
        context.passwords.remember(username, password, user.password_hash)
        return user
    context.throttle.record_failure(username)
    context.metrics.login_failures.labels("bad_credentials").inc()
    raise invalid_credential()


def _basic_credential() -> Credential:
    credentials = request.authorization
    if credentials is None or credentials.type != "basic":
        raise invalid_credential()
    username, password = credentials.username or "", credentials.password or ""
    if not USERNAME_PATTERN.fullmatch(username) or not password:
        raise invalid_credential()
    return Credential(basic=(username, password))


def request_credential(token_type: TokenType = TokenType.ACCESS) -> Credential:
    """The request's token, API key or Basic credentials, checked as far as can be done
    without Redis (a token's signature, a key's digest); else 401."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    value = value.strip()
    scheme = scheme.lower()
    if scheme == "basic" and value:
        return _basic_credential()
    if scheme not in ("bearer", "apikey") or not value:
        raise ApiError(
            401,
            "missing_token",
            "an 'Authorization: Bearer <token or API key>' or 'Authorization: ApiKey <key>' "
            "header is required",
        )
    if scheme == "apikey" or looks_like_key(value):
        record = current().keys.verified(value)
        if record is None:
            raise invalid_credential()
        return Credential(key=record)
    try:
        return Credential(claims=current().tokens.check(value, token_type))
    except InvalidToken as error:
        raise invalid_credential() from error


def writer_for_request(also: Queue | None = None) -> tuple[User, list[Any]]:
    """The writer or admin a route that takes logs serves (a token, or a key with the
    ``ingest`` scope), and the replies of what ``also`` queued on the same round trip."""
    return request_credential().writer(also)


def authenticate(token_type: TokenType = TokenType.ACCESS, *, scope: Scope | None = None) -> User:
    """The current user, read from the store now (not trusted from the credential).

    Keys are taken only when ``scope`` is given and the key holds it.
    """
    user, _ = request_credential(token_type).user(scope)
    return user


def require_admin() -> User:
    """The current user if an admin (by token, or by a key with the ``admin`` scope); 403
    for any other valid credential."""
    credential = request_credential()
    user, _ = credential.user(Scope.ADMIN)
    if not credential.as_admin(user):
        raise ApiError(403, "forbidden", "this route is for admins")
    return user


def bearer_claims(token_type: TokenType) -> TokenClaims:
    """The checked claims of the request's ``Authorization: Bearer`` token (tokens only)."""
    credential = request_credential(token_type)
    if credential.claims is None:
        raise ApiError(403, "forbidden", "this route takes tokens only")
    return credential.claims


def queue_user(pipe: Pipeline, claims: TokenClaims) -> None:
    """Queue the lookup of the token's user on ``pipe`` (to share a round trip)."""
    UserStore.queue_get(pipe, claims.subject)


def user_for(claims: TokenClaims, reply: dict[bytes, bytes]) -> User:
    """The user ``claims`` speak for, if it still exists with the same password; else 401."""
    return Credential(claims=claims)._holds(reply)
