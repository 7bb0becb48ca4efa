"""normalize_reference: sloppy user input in, canonical KVO-YYYY-NNNN (or None) out."""

from __future__ import annotations

import time

import pytest

from kvo.references import format_reference, is_reference, normalize_reference


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("KVO-2024-0031", "KVO-2024-0031"),
        ("kvo-2024-0031", "KVO-2024-0031"),
        ("kvo 2024 31", "KVO-2024-0031"),
        ("KVO2024 31", "KVO-2024-0031"),
        ("KVO20240031", "KVO-2024-0031"),
        ("KvO 2024-31", "KVO-2024-0031"),
        ("status KVO-2024-0031 graag", "KVO-2024-0031"),
        ("Mijn referentie is kvo/2024/31.", "KVO-2024-0031"),
        ("kvo_2024_0031", "KVO-2024-0031"),
        ("  KVO - 2024 - 0031  ", "KVO-2024-0031"),
        ("(KVO-2024-0031)", "KVO-2024-0031"),
        ("KVO-2000-0001", "KVO-2000-0001"),
        ("KVO-2099-9999", "KVO-2099-9999"),
        ("kvo 2024 00000031", "KVO-2024-0031"),
        ("KVO-2024-0031, of toch KVO-2025-0001", "KVO-2024-0031"),
        ("KVO-1999-0001 of KVO-2025-0007", "KVO-2025-0007"),
        ("KVO\n2024\n31", "KVO-2024-0031"),
    ],
)
def test_recognises_sloppy_forms(text: str, expected: str) -> None:
    assert normalize_reference(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        None,
        "geen referentie",
        "2024-0031",
        "KVO",
        "KVO-2024",
        "KVO-1999-0001",
        "KVO-2100-0001",
        "KVO-2024-0000",
        "KVO-2024-10000",
        "KVO 20245 31",
        "KVO202431",
        "XKVO-2024-0031",
        "KVO-20-24-0031",
        "KVO-2024- - - -0031",
    ],
)
def test_rejects_garbage(text: str | None) -> None:
    assert normalize_reference(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("' OR '1'='1", None),
        ("KVO-2024-0031'; DROP TABLE trajectories; --", "KVO-2024-0031"),
        ("1; SELECT * FROM trajectories WHERE reference LIKE '%'", None),
        ("KVO-2024-0031\x00", "KVO-2024-0031"),
        ("kvo%2024%31", None),
    ],
)
def test_sql_looking_input_is_just_text(text: str, expected: str | None) -> None:
    assert normalize_reference(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ＫＶＯ－２０２４－００３１", "KVO-2024-0031"),  # full-width
        ("KVO\u20132024\u20130031", "KVO-2024-0031"),  # en dashes
        ("KVO\u00a02024\u00a031", "KVO-2024-0031"),  # no-break spaces
        ("kvo 2024 31 👍", "KVO-2024-0031"),
        ("KVO-٢٠٢٤-٣١", None),  # Arabic-Indic digits are not a reference
        ("ĸvo 2024 31", None),
        ("référence kvo 2024 31 s'il vous plaît", "KVO-2024-0031"),
    ],
)
def test_unicode(text: str, expected: str | None) -> None:
    assert normalize_reference(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "KVO " * 2000,
        "kvo-2024-" * 1000,
        "KVO-" + "2" * 6000,
        "a" * 5000,
        "KVO" + " " * 5000 + "2024 31",
        "🙂" * 5000,
    ],
)
def test_long_input_is_fast_and_safe(text: str) -> None:
    started = time.perf_counter()
    assert normalize_reference(text) is None
    assert time.perf_counter() - started < 0.2


def test_finds_reference_at_the_end_of_a_long_text() -> None:
    assert normalize_reference("x " * 5000 + "KVO-2024-0031") == "KVO-2024-0031"


def test_format_and_is_reference() -> None:
    assert format_reference(2024, 7) == "KVO-2024-0007"
    assert is_reference("KVO-2024-0007")
    assert not is_reference("kvo 2024 7")
