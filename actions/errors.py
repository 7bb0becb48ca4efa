"""Describing an exception for the log without anything a visitor typed.

Exception messages can carry input: a KeyError names the missing key, a database error quotes
the value it could not parse. The log gets the exception types, a database error code and
where it happened (file, line, function): enough to find the fault, nothing to leak.
"""

from __future__ import annotations

import traceback
from pathlib import Path

_REPO = Path(__file__).resolve().parent.parent


def _where(error: BaseException) -> str:
    frames = traceback.extract_tb(error.__traceback__)
    if not frames:
        return "unknown place"
    frame = frames[-1]
    path = Path(frame.filename)
    shown = path.relative_to(_REPO) if path.is_relative_to(_REPO) else Path(*path.parts[-2:])
    return f"{shown}:{frame.lineno} in {frame.name}"


def _kind(error: BaseException) -> str:
    name = type(error).__name__
    original = getattr(error, "orig", None)  # SQLAlchemy wraps the driver's error
    if isinstance(original, BaseException):
        code = getattr(original, "sqlstate", None) or getattr(original, "sqlite_errorname", None)
        name += f"({type(original).__name__}{f', {code}' if isinstance(code, str) else ''})"
    return name


def describe_error(error: BaseException) -> str:
    """E.g. ``ProgrammingError(UndefinedTable, 42P01) at kvo/status.py:98 in _find_trajectory``.

    Follows the chain of causes, outermost first.
    """
    parts: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen and len(parts) < 5:
        seen.add(id(current))
        parts.append(f"{_kind(current)} at {_where(current)}")
        current = current.__cause__ or current.__context__
    return " <- ".join(parts)
