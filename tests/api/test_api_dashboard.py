"""The staff dashboard: cookie login, CSRF on forms, leads first, status and notes, phases."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from kvo.models import AuditEntry, Lead
from tests.api.support import STAFF_PASSWORD, Api, add_callback, add_facilitator, add_intake

XSS = '<script>alert("x")</script>'


def _login(api: Api) -> None:
    response = api.client.post(
        "/dashboard/login",
        data={"username": "sam", "password": STAFF_PASSWORD},
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"] == "/dashboard/leads"
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF field in the page"
    return match.group(1)


def test_login_page_and_wrong_password(api: Api) -> None:
    page = api.client.get("/dashboard/login")
    assert page.status_code == 401  # nobody logged in: the page says so
    assert '<label for="username">' in page.text and '<label for="password">' in page.text
    assert "Content-Security-Policy" in page.headers
    wrong = api.client.post("/dashboard/login", data={"username": "sam", "password": "fout"})
    assert wrong.status_code == 401 and "onjuist" in wrong.text
    assert "pvo_staff_session" not in wrong.headers.get("set-cookie", "")
    assert api.client.get("/dashboard/leads", follow_redirects=False).headers["location"] == (
        "/dashboard/login"
    )


def test_leads_page_new_first_escaped_and_charted(api: Api, db: Session) -> None:
    add_facilitator(db)
    add_intake(db, api.kvo_settings, "conv-a", name="Gepland Persoon")
    add_callback(db, api.kvo_settings, "conv-c", name=XSS)
    db.commit()
    _login(api)
    page = api.client.get("/dashboard/leads")
    assert page.status_code == 200
    html = page.text
    assert XSS not in html and "&lt;script&gt;" in html
    assert html.index("Nieuwe leads") < html.index("Alle leads")
    new_section = html[html.index("Nieuwe leads") : html.index("Leads per week")]
    assert "&lt;script&gt;" in new_section and "Gepland Persoon" not in new_section
    assert "<svg" in html and 'role="img"' in html
    assert '<a class="skip" href="#inhoud">' in html
    assert "/dashboard/questions" in html
    # The filter form as a browser sends it ("alle" is an empty value).
    filtered = api.client.get(
        "/dashboard/leads", params={"status": "", "kind": "terugbelverzoek", "mail_failed": "true"}
    )
    assert filtered.status_code == 200 and "Geen leads." in filtered.text
    by_status = api.client.get("/dashboard/leads", params={"status": "gepland", "kind": ""})
    assert "Gepland Persoon" in by_status.text


def test_status_change_and_note_need_the_csrf_token(api: Api, db: Session) -> None:
    add_callback(db, api.kvo_settings, "conv-c", name=XSS)
    db.commit()
    lead_id = db.scalar(select(Lead.id))
    _login(api)
    page = api.client.get(f"/dashboard/leads/{lead_id}")
    assert page.status_code == 200 and "&lt;script&gt;" in page.text and XSS not in page.text
    token = _csrf(page.text)

    forged = api.client.post(
        f"/dashboard/leads/{lead_id}/status", data={"status": "in_behandeling"}
    )
    assert forged.status_code == 403 and forged.json()["code"] == "csrf_failed"
    wrong = api.client.post(
        f"/dashboard/leads/{lead_id}/status",
        data={"status": "in_behandeling", "csrf_token": "x" * 43},
    )
    assert wrong.status_code == 403

    changed = api.client.post(
        f"/dashboard/leads/{lead_id}/status",
        data={"status": "in_behandeling", "csrf_token": token},
        follow_redirects=False,
    )
    assert changed.status_code == 303 and changed.headers["location"].endswith("msg=status")
    refused = api.client.post(
        f"/dashboard/leads/{lead_id}/status",
        data={"status": "nieuw", "csrf_token": token},
        follow_redirects=False,
    )
    assert refused.headers["location"].endswith("msg=refused")
    noted = api.client.post(
        f"/dashboard/leads/{lead_id}/notes", data={"text": XSS, "csrf_token": token}
    )
    assert noted.status_code == 200 and "De notitie is opgeslagen." in noted.text
    assert XSS not in noted.text and "&lt;script&gt;" in noted.text
    db.rollback()
    lead = db.get(Lead, lead_id)
    assert lead is not None and lead.status.value == "in_behandeling"
    views = db.scalars(select(AuditEntry.action).where(AuditEntry.subject == f"lead:{lead_id}"))
    assert "lead.view" in list(views)


def test_trajectory_phase_form(api: Api) -> None:
    created = api.client.post(
        "/trajectories",
        json={
            "reference": "KVO-2026-0202",
            "area_name": "Haven",
            "municipality": "Vlissingen",
            "area_kind": "bedrijventerrein",
            "province": "Zeeland",
            "contact_area": "Zeeland en West-Brabant",
            "kind": "hercertificering",
            "target_stars": 2,
            "started_on": "2026-01-05",
        },
        headers=api.staff,
    ).json()
    _login(api)
    listing = api.client.get("/dashboard/trajectories")
    assert "KVO-2026-0202" in listing.text
    page = api.client.get(f"/dashboard/trajectories/{created['id']}")
    token = _csrf(page.text)
    moved = api.client.post(
        f"/dashboard/trajectories/{created['id']}/phase",
        data={"phase": "2", "effective_on": "2026-03-01", "csrf_token": token},
    )
    assert moved.status_code == 200 and "De fase is gewijzigd." in moved.text
    assert "2026-03-01" in moved.text
    bad = api.client.post(
        f"/dashboard/trajectories/{created['id']}/phase",
        data={"phase": "9", "effective_on": "2026-03-01", "csrf_token": token},
    )
    assert bad.status_code == 422


def test_logout_ends_the_session(api: Api) -> None:
    _login(api)
    token = _csrf(api.client.get("/dashboard/leads").text)
    out = api.client.post("/dashboard/logout", data={"csrf_token": token}, follow_redirects=False)
    assert out.status_code == 303
    assert api.client.get("/dashboard/leads", follow_redirects=False).status_code == 303


def test_session_cookie_is_no_bearer_and_bearer_is_no_dashboard_login(api: Api) -> None:
    redirected = api.client.get("/dashboard/leads", headers=api.staff, follow_redirects=False)
    assert redirected.status_code == 303
