"""Login, token refresh and user management: ``/auth/*``."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from logagg.ingest.auth.throttle import LoginThrottled
from logagg.ingest.auth.tokens import TokenType
from logagg.ingest.auth.users import (
    InvalidCredentials,
    LastAdmin,
    Role,
    User,
    UserExists,
    UserNotFound,
    check_password,
    check_username,
)
from logagg.ingest.context import current
from logagg.ingest.errors import ApiError
from logagg.ingest.routes.identity import authenticate, require_admin, sender_address

blueprint = Blueprint("auth", __name__, url_prefix="/auth")

_BAD_CREDENTIALS = "invalid username or password"


def _json_body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_body", "a JSON object body is required")
    return body


def _text_field(body: dict[str, Any], name: str, *, required: bool = True) -> str | None:
    value = body.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value:
        raise ApiError(400, "invalid_body", f"{name!r} must be a non-empty string")
    return value


def _verify_login(username: str, password: str) -> User:
    """The user if the password is right; throttled, and one answer for every failure."""
    context = current()
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
    try:
        user = context.users.get(check_username(username))
    except InvalidCredentials:
        user = None
    # Always hash: an unknown name costs as much as a wrong password.
    if context.hashing.verify(user.password_hash if user else None, password) and user:
        context.throttle.record_success(username, address)
        return user
    context.throttle.record_failure(username)
    context.metrics.login_failures.labels("bad_credentials").inc()
    raise ApiError(401, "invalid_credentials", _BAD_CREDENTIALS)


def _logged_in(user: User) -> Response:
    tokens = current().tokens
    return jsonify(
        message="Logged in",
        token={
            "access": tokens.issue(user.username, user.generation, TokenType.ACCESS),
            "refresh": tokens.issue(user.username, user.generation, TokenType.REFRESH),
        },
    )


@blueprint.get("/login")
def login_basic() -> Response:
    """The original clients' login: HTTP Basic credentials."""
    credentials = request.authorization
    if credentials is None or credentials.type != "basic":
        raise ApiError(
            401,
            "missing_credentials",
            "HTTP Basic credentials are required",
            headers={"WWW-Authenticate": 'Basic realm="logagg"'},
        )
    return _logged_in(_verify_login(credentials.username or "", credentials.password or ""))


@blueprint.post("/login")
def login_json() -> Response:
    """Log in with a JSON username and password; same answer as the Basic login."""
    body = _json_body()
    username = _text_field(body, "username") or ""
    password = _text_field(body, "password") or ""
    return _logged_in(_verify_login(username, password))


@blueprint.post("/refresh")
def refresh() -> Response:
    """A new access token for a valid refresh token of a user that still exists."""
    user = authenticate(TokenType.REFRESH)
    tokens = current().tokens
    return jsonify(
        message="Token refreshed",
        token={"access": tokens.issue(user.username, user.generation, TokenType.ACCESS)},
    )


@blueprint.post("/register")
def register() -> tuple[Response, int]:
    """Create a user (admins only): 201, or 409 when the name is taken in any case."""
    require_admin()
    context = current()
    body = _json_body()
    role_name = body.get("role", Role.WRITER.value)
    try:
        username = check_username(body.get("username"))
        password = check_password(body.get("password"), context.settings.password_min_length)
        role = Role(role_name) if isinstance(role_name, str) else None
    except InvalidCredentials as error:
        raise ApiError(400, "invalid_user", str(error)) from error
    except ValueError:
        role = None
    if role is None:
        raise ApiError(400, "invalid_user", "role: one of admin, writer")
    try:
        user = context.users.create(username, context.hashing.hash(password), role)
    except UserExists as error:
        raise ApiError(409, "user_exists", f"user {username!r} exists already") from error
    return jsonify(
        message="User created", user={"username": user.username, "role": user.role.value}
    ), 201


@blueprint.put("/user/password")
def change_password() -> Response:
    """Change one's own password (old one required) or, as admin, anyone's."""
    caller = authenticate()
    context = current()
    body = _json_body()
    target = _text_field(body, "username", required=False) or caller.username
    is_self = target.lower() == caller.username.lower()
    if not is_self and not caller.is_admin:
        raise ApiError(403, "forbidden", "only admins change other users' passwords")
    if is_self and not caller.is_admin:
        old_password = _text_field(body, "old_password")
        _verify_login(caller.username, old_password or "")
    try:
        password = check_password(body.get("password"), context.settings.password_min_length)
    except InvalidCredentials as error:
        raise ApiError(400, "invalid_user", str(error)) from error
    try:
        context.users.set_password(target, context.hashing.hash(password))
    except UserNotFound as error:
        raise ApiError(404, "user_not_found", f"no user {target!r}") from error
    return jsonify(message="Password changed")


@blueprint.delete("/user")
def delete_user() -> Response:
    """Delete a user (admins only); never the last admin."""
    require_admin()
    body = _json_body()
    username = _text_field(body, "username") or ""
    try:
        current().users.delete(username)
    except UserNotFound as error:
        raise ApiError(404, "user_not_found", f"no user {username!r}") from error
    except LastAdmin as error:
        raise ApiError(409, "last_admin", "the last admin cannot be deleted") from error
    return jsonify(message="User deleted")


@blueprint.get("/users")
def list_users() -> Response:
    """Every user and role (admins only)."""
    require_admin()
    return jsonify(
        users=[{"username": name, "role": role.value} for name, role in current().users.list()]
    )
