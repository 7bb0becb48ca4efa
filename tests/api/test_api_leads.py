"""Leads over the API: list, filters, detail, status, notes, facilitator, export, erasure."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session

from kvo.models import AuditEntry, ContactArea, Lead, MailStatus, OutboxMessage
from tests.api.support import Api, add_callback, add_facilitator, add_intake, assert_error


def _seed(api: Api, db: Session) -> dict[str, int]:
    add_facilitator(db)
    intake = add_intake(db, api.kvo_settings, "conv-a", name="<script>alert(1)</script>")
    callback = add_callback(db, api.kvo_settings, "conv-c")
    db.commit()
    ids = {lead.reference: lead.id for lead in db.scalars(select(Lead))}
    return {"intake": ids[intake.reference], "callback": ids[callback.reference]}


def _audit(db: Session) -> list[tuple[str, str, str]]:
    db.rollback()
    return [
        (e.actor, e.action, e.subject)
        for e in db.scalars(select(AuditEntry).order_by(AuditEntry.id))
    ]


def test_list_filters_sorting_paging(any_api: Api) -> None:
    api = any_api
    with api.session_factory() as db:  # type: ignore[operator]
        ids = _seed(api, db)
    body = api.client.get("/leads", headers=api.staff).json()
    assert body["total"] == 2 and body["page"] == 1 and body["page_size"] == 50
    assert {row["kind"] for row in body["items"]} == {"intake", "terugbelverzoek"}

    only_new = api.client.get("/leads", params={"status": "nieuw"}, headers=api.staff).json()
    assert [row["id"] for row in only_new["items"]] == [ids["callback"]]
    both = api.client.get(
        "/leads", params=[("status", "nieuw"), ("status", "gepland")], headers=api.staff
    ).json()
    assert both["total"] == 2
    kind = api.client.get("/leads", params={"kind": "intake"}, headers=api.staff).json()
    assert [row["id"] for row in kind["items"]] == [ids["intake"]]
    area = api.client.get(
        "/leads", params={"area_kind": "bedrijventerrein"}, headers=api.staff
    ).json()
    assert area["total"] == 0
    contact = api.client.get(
        "/leads", params={"contact_area": "Zeeland en West-Brabant"}, headers=api.staff
    ).json()
    assert [row["id"] for row in contact["items"]] == [ids["intake"]]
    dated = api.client.get(
        "/leads",
        params={"created_from": "2026-11-27", "created_to": "2026-11-27"},
        headers=api.staff,
    ).json()
    assert dated["total"] == 2
    none = api.client.get("/leads", params={"created_from": "2030-01-01"}, headers=api.staff).json()
    assert none["total"] == 0
    paged = api.client.get(
        "/leads",
        params={"page_size": 1, "page": 2, "sort": "reference", "order": "asc"},
        headers=api.staff,
    ).json()
    assert paged["total"] == 2 and len(paged["items"]) == 1


def test_list_validation_errors(api: Api) -> None:
    for params in (
        {"status": "weg"},
        {"page": 0},
        {"page_size": 501},
        {"sort": "name"},
        {"order": "up"},
        {"created_from": "gisteren"},
        {"created_from": "2026-12-02", "created_to": "2026-12-01"},
    ):
        assert_error(api.client.get("/leads", params=params, headers=api.staff), 422)


def test_detail_is_audited_and_escapes_nothing_itself(api: Api, db: Session) -> None:
    ids = _seed(api, db)
    response = api.client.get(f"/leads/{ids['intake']}", headers=api.staff)
    assert response.status_code == 200
    body = response.json()
    assert body["lead"]["name"] == "<script>alert(1)</script>"  # JSON carries text as text
    assert body["email"] == "jan@example.org"
    assert body["allowed_statuses"] == ["afgerond", "afgewezen", "geannuleerd"]
    assert ("sam", "lead.view", f"lead:{ids['intake']}") in _audit(db)
    assert_error(api.client.get("/leads/999999", headers=api.staff), 404, "lead_not_found")
    assert_error(api.client.get("/leads/0", headers=api.staff), 422)
    assert_error(api.client.get("/leads/abc", headers=api.staff), 422)


def test_status_change_follows_the_life_cycle(any_api: Api) -> None:
    api = any_api
    with api.session_factory() as db:  # type: ignore[operator]
        ids = _seed(api, db)
    url = f"/leads/{ids['callback']}/status"
    ok = api.client.post(url, json={"status": "in_behandeling"}, headers=api.staff)
    assert ok.json() == {
        "lead_id": ids["callback"],
        "from_status": "nieuw",
        "to_status": "in_behandeling",
    }
    refused = api.client.post(url, json={"status": "nieuw"}, headers=api.staff)
    assert_error(refused, 409, "transition_refused")
    assert_error(api.client.post(url, json={"status": "x"}, headers=api.staff), 422)
    assert_error(api.client.post(url, json={}, headers=api.staff), 422)
    assert_error(
        api.client.post(url, json={"status": "afgerond", "extra": 1}, headers=api.staff), 422
    )
    assert_error(
        api.client.post("/leads/999999/status", json={"status": "afgerond"}, headers=api.staff),
        404,
    )


def test_notes(api: Api, db: Session) -> None:
    ids = _seed(api, db)
    url = f"/leads/{ids['callback']}/notes"
    created = api.client.post(url, json={"text": "Teruggebeld, geen gehoor."}, headers=api.staff)
    assert created.status_code == 201 and created.json()["author"] == "sam"
    detail = api.client.get(f"/leads/{ids['callback']}", headers=api.staff).json()
    assert [n["text"] for n in detail["notes"]] == ["Teruggebeld, geen gehoor."]
    assert_error(api.client.post(url, json={"text": ""}, headers=api.staff), 422)
    # Found by schemathesis: only spaces was a server error once.
    assert_error(api.client.post(url, json={"text": "   "}, headers=api.staff), 422, "invalid_note")
    assert_error(api.client.post(url, json={"text": "x" * 2001}, headers=api.staff), 422)
    assert_error(api.client.post("/leads/999999/notes", json={"text": "a"}, headers=api.staff), 404)


def test_reassign_rechecks_the_slot(api: Api, db: Session) -> None:
    ids = _seed(api, db)
    lead = db.get(Lead, ids["intake"])
    assert lead is not None
    first = lead.facilitator_id
    other = add_facilitator(db, n=2)
    elsewhere = add_facilitator(db, ContactArea.OOST_BRABANT, n=3)
    db.commit()
    url = f"/leads/{ids['intake']}/facilitator"
    assert_error(
        api.client.post(url, json={"facilitator_id": elsewhere}, headers=api.staff),
        409,
        "ander_contactgebied",
    )
    moved = api.client.post(url, json={"facilitator_id": other}, headers=api.staff)
    assert moved.json() == {"lead_id": ids["intake"], "facilitator_id": other}
    # The first facilitator is free again, the second busy: a second intake at the same time
    # cannot go to the second one.
    second = add_intake(db, api.kvo_settings, "conv-b", email="b@example.org")
    db.commit()
    second_id = db.scalar(select(Lead.id).where(Lead.reference == second.reference))
    assert db.scalar(select(Lead.facilitator_id).where(Lead.id == second_id)) == first
    assert_error(
        api.client.post(
            f"/leads/{second_id}/facilitator", json={"facilitator_id": other}, headers=api.staff
        ),
        409,
        "bezet",
    )
    assert_error(
        api.client.post(
            f"/leads/{ids['callback']}/facilitator",
            json={"facilitator_id": other},
            headers=api.staff,
        ),
        409,
        "geen_afspraak",
    )
    assert_error(api.client.post(url, json={"facilitator_id": 0}, headers=api.staff), 422)


def test_failed_mail_is_flagged(api: Api, db: Session) -> None:
    ids = _seed(api, db)
    message = db.scalars(
        select(OutboxMessage).where(OutboxMessage.lead_id == ids["callback"])
    ).first()
    assert message is not None
    message.status = MailStatus.FAILED
    db.commit()
    rows = {row["id"]: row for row in api.client.get("/leads", headers=api.staff).json()["items"]}
    assert rows[ids["callback"]]["mail_failed"] is True
    assert rows[ids["intake"]]["mail_failed"] is False
    flagged = api.client.get("/leads", params={"mail_failed": "true"}, headers=api.staff).json()
    assert [row["id"] for row in flagged["items"]] == [ids["callback"]]
    fine = api.client.get("/leads", params={"mail_failed": "false"}, headers=api.staff).json()
    assert [row["id"] for row in fine["items"]] == [ids["intake"]]


def test_export_is_admin_only_and_audited(api: Api, db: Session) -> None:
    ids = _seed(api, db)
    assert_error(api.client.get("/leads/export.csv", headers=api.staff), 403, "admin_required")
    response = api.client.get("/leads/export.csv", params={"kind": "intake"}, headers=api.admin)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    lines = response.text.strip().splitlines()
    assert lines[0].startswith("referentie,soort,status") and len(lines) == 2
    assert ("anna", "leads.export", "leads") in _audit(db)
    assert ids


def _tracker_store(path: Path) -> str:
    url = f"sqlite:///{path}"
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255) NOT NULL,"
                " type_name VARCHAR(255) NOT NULL, timestamp FLOAT, intent_name VARCHAR(255),"
                " action_name VARCHAR(255), data TEXT)"
            )
        )
        for sender in ("conv-a", "conv-a", "conv-other"):
            connection.execute(
                text(
                    "INSERT INTO events (sender_id, type_name, timestamp, data) VALUES (:s, 'user', 1.0, '{}')"
                ),
                {"s": sender},
            )
    engine.dispose()
    return url


def _senders(url: str) -> list[str]:
    engine = create_engine(url)
    with engine.connect() as connection:
        senders = sorted(connection.scalars(text("SELECT sender_id FROM events")))
    engine.dispose()
    return senders


def test_erasure_is_admin_only_and_purges_the_conversation(
    api: Api, db: Session, tmp_path: Path
) -> None:
    ids = _seed(api, db)
    tracker = _tracker_store(tmp_path / "tracker.sqlite3")
    api.client.app.state.kvo_settings = api.kvo_settings.model_copy(  # type: ignore[attr-defined]
        update={"tracker_db_url": tracker}
    )
    url = f"/leads/{ids['intake']}/personal-data"
    assert_error(api.client.delete(url, headers=api.staff), 403, "admin_required")
    response = api.client.delete(url, headers=api.admin)
    assert response.json() == {
        "lead_id": ids["intake"],
        "already": False,
        "conversation_purged": True,
    }
    assert _senders(tracker) == ["conv-other"]
    db.rollback()
    lead = db.get(Lead, ids["intake"])
    assert lead is not None and lead.name is None and lead.email is None and lead.erased_at
    again = api.client.delete(url, headers=api.admin).json()
    assert again == {"lead_id": ids["intake"], "already": True, "conversation_purged": None}
    assert ("anna", "lead.erase", f"lead:{ids['intake']}") in _audit(db)
    assert_error(api.client.delete("/leads/999999/personal-data", headers=api.admin), 404)
