"""Random identifiers and secrets, and the hashes under which secrets are stored."""

from __future__ import annotations

import hashlib
import secrets

# Activation codes are typed by a technician, so the alphabet leaves out 0/O, 1/I/L and U.
ACTIVATION_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"
ACTIVATION_GROUPS = 3
ACTIVATION_GROUP_CHARS = 4


def new_id(prefix: str) -> str:
    """Return ``prefix`` + "_" + 16 random URL-safe characters (96 bits)."""
    return f"{prefix}_{secrets.token_urlsafe(12)}"


def new_intent_id() -> str:
    """Return a 20-character URL-safe id, short enough for EMV tag 62.05 (at most 25)."""
    return "i" + secrets.token_urlsafe(14)[:19]


def new_secret_token() -> str:
    """Return a bearer token with 256 random bits."""
    return secrets.token_urlsafe(32)


def new_activation_code() -> str:
    """Return a code such as ``K7QM-2XRA-P9DW`` (about 59 random bits)."""
    groups = [
        "".join(secrets.choice(ACTIVATION_ALPHABET) for _ in range(ACTIVATION_GROUP_CHARS))
        for _ in range(ACTIVATION_GROUPS)
    ]
    return "-".join(groups)


def normalize_activation_code(text: str) -> str:
    """Fold case and drop hyphens and spaces, so ``k7qm 2xra p9dw`` matches the printed code."""
    return "".join(ch for ch in text.upper() if ch not in "- \u3000")


def sha256_hex(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()
