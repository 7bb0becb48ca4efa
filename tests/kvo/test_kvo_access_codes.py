"""Access codes: format, normalisation, argon2id hashing at OWASP-level parameters."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from pydantic import ValidationError

from kvo import access_codes
from kvo.access_codes import (
    ALPHABET,
    dummy_hash,
    format_code,
    generate_code,
    hash_code,
    is_well_formed,
    needs_rehash,
    new_code_and_hash,
    normalize_code,
    verify_code,
)
from kvo.settings import Settings

MakeSettings = Callable[..., Settings]
CODE_SHAPE = re.compile(rf"^[{ALPHABET}]{{4}}-[{ALPHABET}]{{4}}$")


def test_alphabet_has_no_look_alikes() -> None:
    assert len(ALPHABET) == 32
    assert not set("01IO") & set(ALPHABET)


def test_generated_codes_have_the_shape_and_vary() -> None:
    codes = {generate_code() for _ in range(200)}
    assert all(CODE_SHAPE.match(code) for code in codes)
    assert len(codes) == 200


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ABCD-EFGH", "ABCDEFGH"),
        (" abcd efgh ", "ABCDEFGH"),
        ("abcd\u2013efgh", "ABCDEFGH"),
        ("ＡＢＣＤ－ＥＦＧＨ", "ABCDEFGH"),
        ("a b-c d e f g h", "ABCDEFGH"),
        ("", ""),
    ],
)
def test_normalize(text: str, expected: str) -> None:
    assert normalize_code(text) == expected


def test_format_and_well_formed() -> None:
    assert format_code("abcdefgh") == "ABCD-EFGH"
    assert is_well_formed("ABCDEFGH")
    assert not is_well_formed("ABCDEFG")  # too short
    assert not is_well_formed("ABCDEFG0")  # 0 is not in the alphabet
    assert not is_well_formed("ABCD-EFGH")  # not normalised


def test_hash_uses_argon2id_with_at_least_owasp_parameters(make_settings: MakeSettings) -> None:
    settings = make_settings()
    encoded = hash_code("ABCD-EFGH", settings)
    match = re.match(r"^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$", encoded)
    assert match, encoded
    memory, time_cost, parallelism = map(int, match.groups())
    assert memory >= 19456
    assert time_cost >= 2
    assert parallelism >= 1
    assert "ABCD" not in encoded


def test_default_settings_are_the_owasp_minimum(make_settings: MakeSettings) -> None:
    settings = make_settings()
    assert (settings.argon2_memory_cost_kib, settings.argon2_time_cost) == (19456, 2)
    assert settings.argon2_parallelism == 1


@pytest.mark.parametrize(
    "field", ["argon2_time_cost", "argon2_memory_cost_kib", "argon2_parallelism"]
)
def test_weaker_than_owasp_parameters_are_refused(field: str, make_settings: MakeSettings) -> None:
    weaker = {"argon2_time_cost": 1, "argon2_memory_cost_kib": 4096, "argon2_parallelism": 0}
    with pytest.raises(ValidationError):
        make_settings(**{field: weaker[field]})


def test_verify_accepts_sloppy_typing_of_the_right_code(make_settings: MakeSettings) -> None:
    settings = make_settings()
    code, encoded = new_code_and_hash(settings)
    assert verify_code(code, encoded, settings)
    assert verify_code(code.lower().replace("-", " "), encoded, settings)


@pytest.mark.parametrize("attempt", ["ABCD-EFGJ", "", "ABCDEFGH0", "x" * 5000, "' OR 1=1 --"])
def test_verify_rejects_wrong_input(attempt: str, make_settings: MakeSettings) -> None:
    settings = make_settings()
    encoded = hash_code("ABCD-EFGH", settings)
    assert not verify_code(attempt, encoded, settings)


class _CountingHasher:
    """Delegates to the real hasher and remembers which hashes were verified."""

    def __init__(self, real: object) -> None:
        self.real = real
        self.verified: list[str] = []

    def verify(self, encoded: str, password: str) -> bool:
        self.verified.append(encoded)
        return self.real.verify(encoded, password)  # type: ignore[attr-defined]


def test_unknown_reference_and_malformed_input_verify_against_the_dummy_hash(
    monkeypatch: pytest.MonkeyPatch, make_settings: MakeSettings
) -> None:
    settings = make_settings()
    real_hash = hash_code("ABCD-EFGH", settings)
    counting = _CountingHasher(access_codes.get_hasher(settings))
    monkeypatch.setattr(access_codes, "get_hasher", lambda _settings=None: counting)
    assert not verify_code("ABCD-EFGH", None, settings)
    assert not verify_code("nonsense", real_hash, settings)
    assert verify_code("ABCD-EFGH", real_hash, settings)
    assert counting.verified == [dummy_hash(settings), dummy_hash(settings), real_hash]
    # The dummy uses the same parameters as real hashes, so it costs the same time.
    assert dummy_hash(settings).split("$")[3] == real_hash.split("$")[3]


def test_needs_rehash_when_parameters_grow(make_settings: MakeSettings) -> None:
    weak = make_settings()
    strong = make_settings(argon2_time_cost=3)
    encoded = hash_code("ABCD-EFGH", weak)
    assert not needs_rehash(encoded, weak)
    assert needs_rehash(encoded, strong)
    assert needs_rehash("not a hash", weak)


def test_garbage_stored_hash_is_a_mismatch_not_a_crash(make_settings: MakeSettings) -> None:
    settings = make_settings()
    assert not verify_code("ABCD-EFGH", "$argon2id$garbage", settings)


def test_hash_code_refuses_malformed_codes(make_settings: MakeSettings) -> None:
    with pytest.raises(ValueError, match="well-formed"):
        hash_code("short", make_settings())
