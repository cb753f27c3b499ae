"""API keys: long-lived, revocable credentials for machine clients (log shippers).

A key reads ``lgk_<id>_<secret>``: 16 hex digits of id, which find the record without a
scan, and 256 random bits of secret. Only an HMAC-SHA256 of the whole key, under a
server-side key (:func:`hashing_key`), is stored; checking it is one fast keyed hash and
a constant-time comparison, so it can run on every request.

Each key is a hash at ``logagg:apikey:<id>``, listed in ``logagg:apikeys``. It names its
owner and the owner's ``created_at``: a user deleted and registered again under the same
name is another user, and the old keys do not speak for it. A new password leaves keys
alone (a shipper's key is not the person's password); revoking deletes the record. When a
key was last used lives in the sorted set ``logagg:apikeys:last-used`` (``ZADD GT``, so
replicas only move it forward), written at most once a minute per key and process.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import re
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from enum import StrEnum

from redis import Redis
from redis.client import Pipeline

from logagg.errors import LogaggError

KEY_PREFIX = "lgk_"
KEY_RECORD_PREFIX = "logagg:apikey:"
KEYS_KEY = "logagg:apikeys"
LAST_USED_KEY = "logagg:apikeys:last-used"

_ID_HEX = 16
_SECRET_BYTES = 32
# base64url of 32 bytes without padding is 43 characters; bounded, so linear.
_KEY_PATTERN = re.compile(r"lgk_([0-9a-f]{16})_([A-Za-z0-9_-]{43})")
_ID_PATTERN = re.compile(r"[0-9a-f]{16}")
MAX_NAME_LENGTH = 128
# Remembered key records per process; an id's record never changes, only disappears.
RECORD_CACHE_SIZE = 4096
# How often one process writes a key's last use.
LAST_USED_INTERVAL = 60.0
_DERIVATION_LABEL = b"logagg api key hashing v1"


class Scope(StrEnum):
    """What a key may do: ``ingest`` posts logs and reads its receipts; ``admin`` calls
    the admin routes (if its owner is an admin). Tokens and passwords hold every scope."""

    INGEST = "ingest"
    ADMIN = "admin"


DEFAULT_SCOPES = frozenset({Scope.INGEST})


class InvalidKey(LogaggError):
    """Not a well-formed API key."""


class KeyNotFound(LogaggError):
    """No key has this id (never created, or revoked)."""


@dataclasses.dataclass(frozen=True, slots=True)
class ApiKeyRecord:
    """What is stored of a key: never the key itself."""

    key_id: str
    username: str
    owner_since: str
    name: str
    digest: str
    scopes: frozenset[Scope]
    created_at: float
    expires_at: float | None
    created_by: str

    def expired(self, now: float) -> bool:
        """Whether the key's optional expiry has passed at ``now``."""
        return self.expires_at is not None and now >= self.expires_at


def record_key(key_id: str) -> str:
    """The Redis key of the record of key ``key_id``."""
    return KEY_RECORD_PREFIX + key_id


def looks_like_key(credential: str) -> bool:
    """Whether ``credential`` is meant as an API key (its prefix), well-formed or not."""
    return credential.startswith(KEY_PREFIX)


def new_key() -> tuple[str, str]:
    """A fresh ``(id, key)``: 64 bits of id and 256 bits of secret from ``secrets``."""
    key_id = secrets.token_hex(_ID_HEX // 2)
    return key_id, f"{KEY_PREFIX}{key_id}_{secrets.token_urlsafe(_SECRET_BYTES)}"


def key_id_of(key: str) -> str:
    """The id part of a well-formed ``key``; else raise :class:`InvalidKey`."""
    match = _KEY_PATTERN.fullmatch(key)
    if match is None:
        raise InvalidKey("not an API key")
    return match.group(1)


def is_key_id(text: str) -> bool:
    """Whether ``text`` could be a key id (16 lower-case hex digits)."""
    return _ID_PATTERN.fullmatch(text) is not None


def hashing_key(api_key_secret: str | None, jwt_secret: str) -> bytes:
    """The HMAC key of stored digests: ``LOGAGG_API_KEY_SECRET`` when set, else one
    derived from the JWT secret (so the signing key itself is used for one thing only)."""
    if api_key_secret is not None:
        return api_key_secret.encode()
    return hmac.new(jwt_secret.encode(), _DERIVATION_LABEL, hashlib.sha256).digest()


def digest(hash_key: bytes, key: str) -> str:
    """The stored form of ``key``: hex HMAC-SHA256 under ``hash_key``."""
    return hmac.new(hash_key, key.encode(), hashlib.sha256).hexdigest()


def parse_scopes(value: object) -> frozenset[Scope]:
    """Scopes from a JSON list of names (``None``: the default); else raise ``ValueError``."""
    if value is None:
        return DEFAULT_SCOPES
    if not isinstance(value, list) or not value or len(value) > len(Scope):
        raise ValueError("scopes: a non-empty list of 'ingest' and 'admin'")
    try:
        return frozenset(Scope(item) for item in value if isinstance(item, str))
    except ValueError:
        raise ValueError("scopes: a non-empty list of 'ingest' and 'admin'") from None


def scope_list(scopes: Iterable[Scope]) -> list[str]:
    """Scopes in a stable order, as the API answers them."""
    return sorted(scope.value for scope in scopes)


def decoded(reply: Mapping[bytes, bytes] | Mapping[str, str]) -> dict[str, str]:
    """An ``HGETALL`` reply with its names and values as text."""
    return {
        (k.decode() if isinstance(k, bytes) else k): (v.decode() if isinstance(v, bytes) else v)
        for k, v in reply.items()
    }


def record_from_reply(reply: Mapping[bytes, bytes] | Mapping[str, str]) -> ApiKeyRecord | None:
    """Build a record from an ``HGETALL`` reply (empty, or broken: ``None``)."""
    if not reply:
        return None
    values = decoded(reply)
    try:
        expires = values.get("expires_at")
        return ApiKeyRecord(
            key_id=values["id"],
            username=values["username"],
            owner_since=values["owner_since"],
            name=values.get("name", ""),
            digest=values["digest"],
            scopes=frozenset(Scope(s) for s in values["scopes"].split(",") if s),
            created_at=float(values["created_at"]),
            expires_at=float(expires) if expires else None,
            created_by=values.get("created_by", ""),
        )
    except (KeyError, ValueError):
        return None


class KeyStore:
    """Creates, lists, finds and revokes API keys in Redis; checks presented keys."""

    def __init__(
        self, redis: Redis, hash_key: Callable[[], bytes], clock: Callable[[], float] = time.time
    ) -> None:
        # A callable, so that dev mode's generated JWT secret is fetched lazily.
        self._redis = redis
        self._hash_key = hash_key
        self._clock = clock
        self._records: OrderedDict[str, ApiKeyRecord] = OrderedDict()
        self._last_written: dict[str, float] = {}
        self._lock = threading.Lock()

    def create(
        self,
        *,
        username: str,
        owner_since: str,
        name: str,
        scopes: frozenset[Scope],
        expires_at: float | None,
        created_by: str,
    ) -> tuple[str, ApiKeyRecord]:
        """Store a new key for ``username``; return the key (to be shown once) and record."""
        while True:
            key_id, key = new_key()
            record = ApiKeyRecord(
                key_id=key_id,
                username=username,
                owner_since=owner_since,
                name=name,
                digest=digest(self._hash_key(), key),
                scopes=scopes,
                created_at=round(self._clock(), 3),
                expires_at=expires_at,
                created_by=created_by,
            )
            mapping = {
                "id": key_id,
                "username": username,
                "owner_since": owner_since,
                "name": name,
                "digest": record.digest,
                "scopes": ",".join(scope_list(scopes)),
                "created_at": f"{record.created_at:.3f}",
                "expires_at": "" if expires_at is None else f"{expires_at:.3f}",
                "created_by": created_by,
            }
            if self._claim(key_id, mapping):
                return key, record

    def _claim(self, key_id: str, mapping: dict[str, str]) -> bool:
        """Store a new record unless its id is taken (64 random bits collided)."""
        created: list[bool] = []

        def claim(pipe: Pipeline) -> None:
            created.clear()
            if pipe.exists(record_key(key_id)):
                return
            pipe.multi()
            pipe.hset(record_key(key_id), mapping=mapping)  # type: ignore[arg-type]
            pipe.sadd(KEYS_KEY, key_id)
            created.append(True)

        self._redis.transaction(claim, record_key(key_id))
        return bool(created)

    def list(self) -> list[tuple[ApiKeyRecord, float | None]]:
        """Every key's record and last use (epoch seconds or ``None``), oldest first."""
        ids = sorted(i.decode() for i in self._redis.smembers(KEYS_KEY))  # type: ignore[union-attr]
        with self._redis.pipeline(transaction=False) as pipe:
            for key_id in ids:
                pipe.hgetall(record_key(key_id))
            if ids:
                pipe.zmscore(LAST_USED_KEY, ids)
            replies = pipe.execute()
        scores: list[float | None] = replies[-1] if ids else []
        found = []
        for reply, used in zip(replies[: len(ids)], scores, strict=True):
            record = record_from_reply(reply)
            if record is not None:
                found.append((record, used))
        return sorted(found, key=lambda pair: (pair[0].created_at, pair[0].key_id))

    def revoke(self, key_id: str) -> ApiKeyRecord:
        """Delete key ``key_id`` (it stops working at once); raise :class:`KeyNotFound`."""
        with self._redis.pipeline(transaction=True) as pipe:
            pipe.hgetall(record_key(key_id))
            pipe.delete(record_key(key_id))
            pipe.srem(KEYS_KEY, key_id)
            pipe.zrem(LAST_USED_KEY, key_id)
            reply, *_ = pipe.execute()
        record = record_from_reply(reply)
        with self._lock:
            self._records.pop(key_id, None)
        if record is None:
            raise KeyNotFound(key_id)
        return record

    def verified(self, key: str) -> ApiKeyRecord | None:
        """The record of ``key`` if the key is well-formed, known and its digest matches
        (expiry and owner are the caller's to check); else ``None``.

        A record is read from Redis on first use per process, then remembered (it never
        changes); whether it still exists is for the caller to check on every request.
        """
        try:
            key_id = key_id_of(key)
        except InvalidKey:
            return None
        with self._lock:
            record = self._records.get(key_id)
        if record is None:
            record = record_from_reply(self._redis.hgetall(record_key(key_id)))  # type: ignore[arg-type]
            if record is None or record.key_id != key_id:
                return None
            with self._lock:
                self._records[key_id] = record
                if len(self._records) > RECORD_CACHE_SIZE:
                    self._records.popitem(last=False)
        if not hmac.compare_digest(record.digest, digest(self._hash_key(), key)):
            return None
        return record

    def queue_check(self, pipe: Pipeline, record: ApiKeyRecord) -> int:
        """Queue on ``pipe`` the test that the key is not revoked (its reply first) and,
        at most once a minute, the note of its use; return how many replies that makes."""
        pipe.exists(record_key(record.key_id))
        now = self._clock()
        with self._lock:
            due = now - self._last_written.get(record.key_id, float("-inf")) >= LAST_USED_INTERVAL
            if due:
                self._last_written[record.key_id] = now
                if len(self._last_written) > RECORD_CACHE_SIZE:
                    self._last_written.pop(next(iter(self._last_written)))
        if not due:
            return 1
        pipe.zadd(LAST_USED_KEY, {record.key_id: round(now, 3)}, gt=True)
        return 2

    def now(self) -> float:
        return self._clock()
