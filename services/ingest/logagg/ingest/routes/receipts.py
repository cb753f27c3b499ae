"""``GET /log/batches/<batch_id>``: the delivery receipt of a batch or of a whole request."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from logagg.ingest.auth.keys import Scope
from logagg.ingest.context import current
from logagg.ingest.errors import ApiError
from logagg.ingest.routes.identity import request_credential
from logagg.receipts import answer, read_receipt

blueprint = Blueprint("receipts", __name__)

# Longer than any batch or request id; a longer one cannot exist, so no lookup is made.
_MAX_ID_LENGTH = 128


@blueprint.get("/log/batches/<batch_id>")
def get_receipt(batch_id: str) -> tuple[Response, int]:
    """Where a batch (``<request id>-N``) or all batches of a request (the ``batch_id`` of
    the 200) are. Only their sender or an admin may ask; to anyone else another
    service's batch does not exist (404, like an unknown or expired id)."""
    credential = request_credential()
    user, _ = credential.user(Scope.INGEST)
    stored = read_receipt(current().redis, batch_id) if len(batch_id) <= _MAX_ID_LENGTH else None
    if stored is None or (not credential.as_admin(user) and stored.services != {user.username}):
        raise ApiError(404, "not_found", f"no batch {batch_id!r} (unknown, expired or not yours)")
    return jsonify(answer(stored)), 200
