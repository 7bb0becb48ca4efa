"""Access codes for the status lookup: generation, normalisation, argon2id hashing.

A code is 8 characters from an alphabet without look-alikes (no 0/O, 1/I),
shown as ``XXXX-XXXX``. Only its argon2id hash is stored.
"""

from __future__ import annotations

import secrets
import unicodedata
from functools import lru_cache

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

from kvo.settings import Settings, get_settings

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
_ALPHABET_SET = frozenset(ALPHABET)
# Longer input cannot be a code; cutting it keeps work bounded without changing the verdict.
_MAX_INPUT_CHARS = 256
_DASHES = frozenset("-\u2010\u2011\u2012\u2013\u2014\u2212")


def generate_code() -> str:
    """A new random code, formatted ``XXXX-XXXX`` (40 bits from ``secrets``)."""
    raw = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    return format_code(raw)


def format_code(code: str) -> str:
    """``ABCDEFGH`` -> ``ABCD-EFGH`` (normalising first)."""
    normalized = normalize_code(code)
    half = CODE_LENGTH // 2
    return f"{normalized[:half]}-{normalized[half:]}"


def normalize_code(text: str) -> str:
    """Strip, upper-case and drop spaces and dashes: `` abcd-efgh `` -> ``ABCDEFGH``."""
    # NFKC folds full-width and other compatibility forms onto plain ASCII letters.
    text = unicodedata.normalize("NFKC", (text or "")[:_MAX_INPUT_CHARS])
    return "".join(ch for ch in text.strip().upper() if not ch.isspace() and ch not in _DASHES)


def is_well_formed(code: str) -> bool:
    """True when ``code`` (already normalised) could be an issued code."""
    return len(code) == CODE_LENGTH and all(ch in _ALPHABET_SET for ch in code)


@lru_cache(maxsize=4)
def _hasher(time_cost: int, memory_cost: int, parallelism: int) -> PasswordHasher:
    return PasswordHasher(
        time_cost=time_cost,
        memory_cost=memory_cost,
        parallelism=parallelism,
        hash_len=32,
        salt_len=16,
        type=Type.ID,
    )


def get_hasher(settings: Settings | None = None) -> PasswordHasher:
    settings = settings or get_settings()
    return _hasher(
        settings.argon2_time_cost, settings.argon2_memory_cost_kib, settings.argon2_parallelism
    )


@lru_cache(maxsize=4)
def _dummy_hash_for(time_cost: int, memory_cost: int, parallelism: int) -> str:
    # Same parameters as real hashes, so verifying against it costs the same time.
    return _hasher(time_cost, memory_cost, parallelism).hash(secrets.token_urlsafe(16))


def dummy_hash(settings: Settings | None = None) -> str:
    """A module-level hash of a random secret that nothing can match."""
    settings = settings or get_settings()
    return _dummy_hash_for(
        settings.argon2_time_cost, settings.argon2_memory_cost_kib, settings.argon2_parallelism
    )


def hash_code(code: str, settings: Settings | None = None) -> str:
    """The argon2id hash of a code (normalised first)."""
    normalized = normalize_code(code)
    if not is_well_formed(normalized):
        raise ValueError("not a well-formed access code")
    return get_hasher(settings).hash(normalized)


def verify_code(code_text: str, stored_hash: str | None, settings: Settings | None = None) -> bool:
    """Check user input against a stored hash in constant-ish time.

    ``stored_hash=None`` (unknown reference) and malformed input still run one
    full argon2 verify against the dummy hash, so timing does not tell them apart.
    """
    normalized = normalize_code(code_text)
    target = stored_hash if stored_hash and is_well_formed(normalized) else None
    try:
        matched = get_hasher(settings).verify(target or dummy_hash(settings), normalized)
    except (VerificationError, InvalidHashError):
        return False
    return matched and target is not None


def needs_rehash(stored_hash: str, settings: Settings | None = None) -> bool:
    """True when the hash was made with other parameters than the current settings."""
    try:
        return get_hasher(settings).check_needs_rehash(stored_hash)
    except InvalidHashError:
        return True


def new_code_and_hash(settings: Settings | None = None) -> tuple[str, str]:
    """A fresh code (formatted, to show once) and its hash (to store)."""
    code = generate_code()
    return code, hash_code(code, settings)
