"""The user store: usernames, roles and password hashes in Redis.

Each user is a hash at ``logagg:user:<lower-cased name>`` (so names are unique whatever
their case), listed in the set ``logagg:users``; admins are also in ``logagg:admins``, so
"is this the last admin?" and "does any admin exist?" are one ``SCARD``. Changes that must
see a consistent picture (create if absent, delete unless last admin, first admin) run as
optimistic transactions (``WATCH``/``MULTI``), safe with several replicas at once.

Each record carries a random ``generation`` that tokens copy; a new password draws a new
one, and a deleted user has none, so tokens issued before stop working at once.
"""

from __future__ import annotations

import dataclasses
import re
import secrets
import time
from enum import StrEnum

from redis import Redis
from redis.client import Pipeline
from redis.typing import EncodableT, FieldT

from logagg.errors import LogaggError

USERS_KEY = "logagg:users"
ADMINS_KEY = "logagg:admins"
USER_KEY_PREFIX = "logagg:user:"

USERNAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
MAX_PASSWORD_LENGTH = 1024


class Role(StrEnum):
    """What a user may do: admins manage users (and may post), writers post logs."""

    ADMIN = "admin"
    WRITER = "writer"


class UserExists(LogaggError):
    """A user with this name (in any letter case) exists already."""


class UserNotFound(LogaggError):
    """No user has this name."""


class LastAdmin(LogaggError):
    """The operation would leave no admin."""


class InvalidCredentials(LogaggError):
    """A username or password that breaks the rules; ``str()`` says which rule."""


@dataclasses.dataclass(frozen=True, slots=True)
class User:
    """One stored user. ``username`` keeps the case it was registered with."""

    username: str
    role: Role
    password_hash: str
    generation: str

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN


def user_key(username: str) -> str:
    """The Redis key of ``username``'s record (case-insensitive)."""
    return USER_KEY_PREFIX + username.lower()


def check_username(username: object) -> str:
    """Return ``username`` if it follows the rules, else raise :class:`InvalidCredentials`."""
    if not isinstance(username, str) or not USERNAME_PATTERN.fullmatch(username):
        raise InvalidCredentials(
            "username: 1 to 64 characters, letters, digits and . _ @ -, "
            "starting with a letter or digit"
        )
    return username


def check_password(password: object, min_length: int) -> str:
    """Return ``password`` if long enough (and not absurdly long), else raise."""
    if not isinstance(password, str) or not min_length <= len(password) <= MAX_PASSWORD_LENGTH:
        raise InvalidCredentials(
            f"password: {min_length} to {MAX_PASSWORD_LENGTH} characters required"
        )
    return password


def user_from_reply(reply: dict[bytes, bytes] | dict[str, str]) -> User | None:
    """Build a :class:`User` from an ``HGETALL`` reply (empty when there is no such user)."""
    if not reply:
        return None
    fields = {
        (k.decode() if isinstance(k, bytes) else k): (v.decode() if isinstance(v, bytes) else v)
        for k, v in reply.items()
    }
    try:
        return User(
            username=fields["username"],
            role=Role(fields["role"]),
            password_hash=fields["password_hash"],
            generation=fields["generation"],
        )
    except (KeyError, ValueError):
        return None


def _new_generation() -> str:
    return secrets.token_urlsafe(12)


class UserStore:
    """Reads and changes users in Redis."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    def get(self, username: str) -> User | None:
        """The user called ``username`` (any case), or ``None``."""
        return user_from_reply(self._redis.hgetall(user_key(username)))  # type: ignore[arg-type]

    @staticmethod
    def queue_get(pipe: Pipeline, username: str) -> None:
        """Queue the lookup of ``username`` on ``pipe``; read it with :func:`user_from_reply`."""
        pipe.hgetall(user_key(username))

    def list(self) -> list[tuple[str, Role]]:
        """Every user's name and role, sorted by name."""
        names = sorted(n.decode() for n in self._redis.smembers(USERS_KEY))  # type: ignore[union-attr]
        with self._redis.pipeline(transaction=False) as pipe:
            for name in names:
                pipe.hmget(user_key(name), ["username", "role"])
            replies: list[list[bytes | None]] = pipe.execute()
        users = []
        for username, role in replies:
            if username is not None and role is not None:
                users.append((username.decode(), Role(role.decode())))
        return users

    def create(self, username: str, password_hash: str, role: Role) -> User:
        """Add a user; raise :class:`UserExists` if the name is taken in any case."""
        user = User(username, role, password_hash, _new_generation())

        def create(pipe: Pipeline) -> None:
            if pipe.exists(user_key(username)):
                raise UserExists(username)
            pipe.multi()
            self._write(pipe, user)

        self._redis.transaction(create, user_key(username))
        return user

    def create_first_admin(self, username: str, password_hash: str) -> User | None:
        """Create ``username`` as admin if no admin exists; ``None`` if one already does.

        Several replicas starting together race here; ``WATCH`` on the admin set lets
        exactly one of them create the admin.
        """
        user = User(username, Role.ADMIN, password_hash, _new_generation())
        created: list[User] = []

        def bootstrap(pipe: Pipeline) -> None:
            created.clear()
            # Read the name before the admin count: the reads are not one snapshot, and
            # in this order a replica that has just created the admin is never mistaken
            # for a plain user holding the name.
            name_taken = pipe.exists(user_key(username))
            if pipe.scard(ADMINS_KEY) > 0:
                return
            if name_taken:
                raise UserExists(
                    f"{username} exists but is not an admin and no admin exists; "
                    "choose another LOGAGG_ADMIN_USERNAME"
                )
            pipe.multi()
            self._write(pipe, user)
            created.append(user)

        self._redis.transaction(bootstrap, ADMINS_KEY, user_key(username))
        return created[0] if created else None

    def set_password(self, username: str, password_hash: str) -> None:
        """Replace ``username``'s password; tokens issued before stop working."""

        def change(pipe: Pipeline) -> None:
            if not pipe.exists(user_key(username)):
                raise UserNotFound(username)
            pipe.multi()
            pipe.hset(
                user_key(username),
                mapping={"password_hash": password_hash, "generation": _new_generation()},
            )

        self._redis.transaction(change, user_key(username))

    def delete(self, username: str) -> None:
        """Remove ``username``; raise :class:`UserNotFound` or :class:`LastAdmin`."""
        key = user_key(username)

        def delete(pipe: Pipeline) -> None:
            role = pipe.hget(key, "role")
            if role is None:
                raise UserNotFound(username)
            if role == Role.ADMIN.value.encode() and pipe.scard(ADMINS_KEY) <= 1:
                raise LastAdmin(username)
            pipe.multi()
            pipe.delete(key)
            pipe.srem(USERS_KEY, username.lower())
            pipe.srem(ADMINS_KEY, username.lower())

        self._redis.transaction(delete, key, ADMINS_KEY)

    @staticmethod
    def _write(pipe: Pipeline, user: User) -> None:
        mapping: dict[FieldT, EncodableT] = {
            "username": user.username,
            "role": user.role.value,
            "password_hash": user.password_hash,
            "generation": user.generation,
            "created_at": f"{time.time():.3f}",
        }
        pipe.hset(user_key(user.username), mapping=mapping)
        pipe.sadd(USERS_KEY, user.username.lower())
        if user.is_admin:
            pipe.sadd(ADMINS_KEY, user.username.lower())
