"""API keys for machine clients: ``/auth/keys`` (admins only)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, jsonify, request

from logagg.ingest.auth.keys import (
    MAX_NAME_LENGTH,
    ApiKeyRecord,
    KeyNotFound,
    Scope,
    decoded,
    is_key_id,
    parse_scopes,
    scope_list,
)
from logagg.ingest.auth.users import USERNAME_PATTERN, Role, user_key
from logagg.ingest.context import current
from logagg.ingest.errors import ApiError
from logagg.ingest.routes.identity import require_admin
from logagg.settings import parse_duration
from logagg.utc import utc_millis

blueprint = Blueprint("keys", __name__, url_prefix="/auth/keys")


def _time(epoch: float | None) -> str | None:
    return None if epoch is None else utc_millis(datetime.fromtimestamp(epoch, UTC))


def key_answer(record: ApiKeyRecord, last_used: float | None = None) -> dict[str, Any]:
    """A key's metadata as the API shows it (never its digest)."""
    return {
        "id": record.key_id,
        "username": record.username,
        "name": record.name,
        "scopes": scope_list(record.scopes),
        "created_at": _time(record.created_at),
        "created_by": record.created_by,
        "expires_at": _time(record.expires_at),
        "last_used": _time(last_used),
    }


def _bad(message: str) -> ApiError:
    return ApiError(400, "invalid_key_request", message)


def _expiry(body: dict[str, Any], now: float) -> float | None:
    """The expiry asked for: ``expires_in`` (seconds or a duration) or ``expires_at``."""
    expires_in, expires_at = body.get("expires_in"), body.get("expires_at")
    if expires_in is not None and expires_at is not None:
        raise _bad("give expires_in or expires_at, not both")
    if expires_in is not None:
        try:
            if isinstance(expires_in, bool) or not isinstance(expires_in, int | float | str):
                raise ValueError
            seconds = (
                parse_duration(expires_in) if isinstance(expires_in, str) else float(expires_in)
            )
        except ValueError:
            raise _bad("expires_in: seconds, or a duration such as 90d or 12h") from None
        if not 0 < seconds <= 100 * 365 * 86400:
            raise _bad("expires_in: more than 0 and at most 100 years")
        return round(now + seconds, 3)
    if expires_at is not None:
        if not isinstance(expires_at, str):
            raise _bad("expires_at: an RFC 3339 time, e.g. 2027-01-01T00:00:00Z")
        try:
            moment = datetime.fromisoformat(expires_at.strip().replace("Z", "+00:00"))
        except ValueError:
            raise _bad("expires_at: an RFC 3339 time, e.g. 2027-01-01T00:00:00Z") from None
        epoch = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()
        if epoch <= now:
            raise _bad("expires_at: must be in the future")
        return round(epoch, 3)
    return None


@blueprint.post("")
def create_key() -> tuple[Response, int]:
    """Create a key for a user; the key is in this answer and nowhere else, ever."""
    admin = require_admin()
    context = current()
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_body", "a JSON object body is required")
    username = body.get("username")
    if not isinstance(username, str) or not username:
        raise _bad("'username' must be a non-empty string")
    name = body.get("name", "")
    if not isinstance(name, str) or len(name) > MAX_NAME_LENGTH:
        raise _bad(f"name: a string of at most {MAX_NAME_LENGTH} characters")
    try:
        scopes = parse_scopes(body.get("scopes"))
    except ValueError as error:
        raise _bad(str(error)) from error
    expires_at = _expiry(body, context.keys.now())
    # A name no user can have is looked up nowhere (its Redis key could be another's).
    valid = USERNAME_PATTERN.fullmatch(username) is not None
    owner = decoded(context.redis.hgetall(user_key(username))) if valid else {}  # type: ignore[arg-type]
    if not owner.get("username") or not owner.get("created_at"):
        raise ApiError(404, "user_not_found", f"no user {username!r}")
    if Scope.ADMIN in scopes and owner.get("role") != Role.ADMIN.value:
        raise _bad(f"the 'admin' scope is for keys of admins; {owner['username']!r} is not one")
    key, record = context.keys.create(
        username=owner["username"],
        owner_since=owner["created_at"],
        name=name,
        scopes=scopes,
        expires_at=expires_at,
        created_by=admin.username,
    )
    return jsonify(
        message="API key created; it is shown this once", key=key, api_key=key_answer(record)
    ), 201


@blueprint.get("")
def list_keys() -> Response:
    """Every key's metadata, or one user's (``?username=``)."""
    require_admin()
    wanted = request.args.get("username")
    keys = [
        key_answer(record, used)
        for record, used in current().keys.list()
        if wanted is None or record.username.lower() == wanted.lower()
    ]
    return jsonify(keys=keys)


@blueprint.delete("/<key_id>")
def revoke_key(key_id: str) -> Response:
    """Revoke a key: requests with it are refused from now on."""
    require_admin()
    try:
        if not is_key_id(key_id):
            raise KeyNotFound(key_id)
        record = current().keys.revoke(key_id)
    except KeyNotFound as error:
        raise ApiError(404, "key_not_found", f"no API key {key_id!r}") from error
    return jsonify(message="API key revoked", api_key=key_answer(record))
