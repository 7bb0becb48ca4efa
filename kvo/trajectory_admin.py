"""Staff operations on trajectories (used by the CLI and the staff API)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from kvo import access_codes
from kvo.errors import InvalidReference, ReservedReference, UnknownReference
from kvo.models import Trajectory
from kvo.references import EXAMPLE_REFERENCE, normalize_reference
from kvo.settings import Settings


def check_new_reference(reference_text: str) -> str:
    """The canonical form of a reference a new trajectory may get.

    Raises InvalidReference for text without a reference and ReservedReference for the
    example reference of the bot texts, which must never lead to a real trajectory.
    """
    reference = normalize_reference(reference_text)
    if reference is None:
        raise InvalidReference(reference_text)
    if reference == EXAMPLE_REFERENCE:
        raise ReservedReference(reference)
    return reference


def rotate_access_code(
    session: Session, reference_text: str, *, settings: Settings | None = None
) -> tuple[str, str]:
    """Give a trajectory a new access code; returns (reference, new code as XXXX-XXXX).

    The old code stops working at commit. The new code exists only in the return
    value: show it once, never log it.
    """
    reference = normalize_reference(reference_text)
    if reference is None:
        raise InvalidReference(reference_text)
    trajectory = session.execute(
        select(Trajectory).where(Trajectory.reference == reference).with_for_update()
    ).scalar_one_or_none()
    if trajectory is None:
        raise UnknownReference(reference)
    code, code_hash = access_codes.new_code_and_hash(settings)
    trajectory.access_code_hash = code_hash
    session.flush()
    return reference, code
