"""Print a compose ``.env`` from ``.env.example`` with every CHANGE-ME replaced by a secret.

    python3 deploy/generate_env.py > .env

Each placeholder gets its own random value, long enough for every minimum the stack
checks (JWT secret and Kibana encryption key 32+ characters, passwords 12+) and within
the lengths MinIO accepts for its root credentials (20 and 40 characters, as AWS keys).
"""

from __future__ import annotations

import secrets
import string
import sys
from collections.abc import Callable
from pathlib import Path

PLACEHOLDER = "CHANGE-ME"
EXAMPLE = Path(__file__).resolve().parents[1] / ".env.example"
ALPHABET = string.ascii_letters + string.digits
LENGTHS = {"AWS_ACCESS_KEY_ID": 20, "AWS_SECRET_ACCESS_KEY": 40}
DEFAULT_LENGTH = 40


def random_secret(length: int) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def fill_placeholders(example: str, secret: Callable[[int], str] = random_secret) -> str:
    """``example`` with the value of every ``NAME=CHANGE-ME`` line replaced by a new secret."""
    lines = []
    for line in example.splitlines():
        name, sep, value = line.partition("=")
        if sep and not line.lstrip().startswith("#") and value.strip() == PLACEHOLDER:
            line = f"{name}={secret(LENGTHS.get(name.strip(), DEFAULT_LENGTH))}"
        lines.append(line)
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(fill_placeholders(EXAMPLE.read_text()))
