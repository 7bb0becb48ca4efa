"""Intake drafts: kept between chat turns, gone after stop, no consent, booking or expiry."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from kvo.intake_drafts import (
    InvalidDraftField,
    discard_draft,
    draft_exists,
    load_draft,
    purge_expired_drafts,
    save_field,
    save_fields,
)
from kvo.settings import Settings
from tests.kvo.intake_support import MONDAY, all_stored_text

PERSONAL = {
    "name": "Geheime Naam",
    "email": "geheim.adres@example.org",
    "phone": "0687654321",
    "description": "Onze vertrouwelijke vraag",
}


def test_save_load_and_overwrite(kvo_session: Session, kvo_settings: Settings) -> None:
    save_field(kvo_session, "conv-1", "name", "Jan", MONDAY, settings=kvo_settings)
    save_fields(kvo_session, "conv-1", {"email": "jan@example.org", "name": "Jan B."}, MONDAY)
    assert load_draft(kvo_session, "conv-1", MONDAY) == {
        "name": "Jan B.",
        "email": "jan@example.org",
    }
    assert load_draft(kvo_session, "conv-2", MONDAY) == {}
    # The conversation id itself is never stored, only its hash.
    assert "conv-1" not in all_stored_text(kvo_session)


def test_discard_leaves_no_personal_data(kvo_session: Session, kvo_settings: Settings) -> None:
    for name, value in PERSONAL.items():
        save_field(kvo_session, "stop-halfway", name, value, MONDAY, settings=kvo_settings)
    kvo_session.commit()
    assert PERSONAL["email"] in all_stored_text(kvo_session)
    assert discard_draft(kvo_session, "stop-halfway") is True
    kvo_session.commit()
    stored = all_stored_text(kvo_session)
    for value in PERSONAL.values():
        assert value not in stored
    assert discard_draft(kvo_session, "stop-halfway") is False


def test_drafts_expire(kvo_session: Session, make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(intake_draft_ttl_minutes=30)
    save_fields(kvo_session, "a", PERSONAL, MONDAY, settings=settings)
    save_fields(kvo_session, "b", {"name": "B"}, MONDAY + timedelta(minutes=20), settings=settings)
    # Each save extends the life of its draft.
    save_field(
        kvo_session, "b", "role", "gemeente", MONDAY + timedelta(minutes=40), settings=settings
    )
    later = MONDAY + timedelta(minutes=45)
    assert not draft_exists(kvo_session, "a", later)
    assert load_draft(kvo_session, "a", later) == {}  # an expired draft is deleted on read
    assert draft_exists(kvo_session, "b", later)
    assert purge_expired_drafts(kvo_session, MONDAY + timedelta(hours=2)) == 1
    stored = all_stored_text(kvo_session)
    assert all(value not in stored for value in PERSONAL.values())


@pytest.mark.parametrize(
    ("name", "value"),
    [("Naam", "x"), ("name; drop", "x"), ("n" * 41, "x"), ("name", "x" * 2001)],
)
def test_bad_fields_are_refused(
    name: str, value: str, kvo_session: Session, kvo_settings: Settings
) -> None:
    with pytest.raises(InvalidDraftField):
        save_field(kvo_session, "c", name, value, MONDAY, settings=kvo_settings)


def test_abandoned_drafts_are_cleared_by_later_saves(
    kvo_session: Session, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings(intake_draft_ttl_minutes=30)
    save_fields(kvo_session, "abandoned", PERSONAL, MONDAY, settings=settings)
    save_field(kvo_session, "other", "name", "X", MONDAY + timedelta(hours=1), settings=settings)
    stored = all_stored_text(kvo_session)
    assert all(value not in stored for value in PERSONAL.values())
