"""Trajectories over the API: create (code shown once), list, detail, update, phases, codes."""

from __future__ import annotations

from kvo.access_codes import verify_code
from kvo.models import Trajectory
from tests.api.support import Api, assert_error

NEW = {
    "reference": "KVO-2026-0101",
    "area_name": "Centrum",
    "municipality": "Breda",
    "area_kind": "winkelgebied",
    "province": "Noord-Brabant",
    "contact_area": "Zeeland en West-Brabant",
    "kind": "eerste_certificering",
    "target_stars": 1,
    "started_on": "2026-09-01",
}


def _create(api: Api) -> dict[str, object]:
    response = api.client.post("/trajectories", json=NEW, headers=api.staff)
    assert response.status_code == 201, response.text
    return response.json()


def test_create_list_detail(any_api: Api) -> None:
    api = any_api
    created = _create(any_api)
    assert created["reference"] == "KVO-2026-0101"
    code = str(created["access_code"])
    with api.session_factory() as session:  # type: ignore[operator]
        stored = session.get(Trajectory, created["id"])
        assert stored is not None and code not in stored.access_code_hash
        assert verify_code(code, stored.access_code_hash, api.kvo_settings)
    listed = api.client.get("/trajectories", headers=api.staff).json()
    assert listed["total"] == 1 and listed["items"][0]["current_phase"] == 1
    assert (
        api.client.get("/trajectories", params={"phase": 2}, headers=api.staff).json()["total"] == 0
    )
    detail = api.client.get(f"/trajectories/{created['id']}", headers=api.staff).json()
    assert detail["phases"] == [{"phase": 1, "started_on": "2026-09-01", "completed_on": None}]
    assert "access_code" not in str(detail)
    assert_error(api.client.post("/trajectories", json=NEW, headers=api.staff), 409)


def test_create_validation(api: Api) -> None:
    for change in (
        {"reference": "KVO-2000-1234"},  # the example reference of the bot texts
        {"reference": "ABC"},
        {"target_stars": 0},
        {"area_kind": "woonwijk"},
        {"area_name": ""},
        {"started_on": "morgen"},
        {"unknown": 1},
    ):
        response = api.client.post("/trajectories", json={**NEW, **change}, headers=api.staff)
        assert response.status_code in (409, 422), (change, response.text)
        assert_error(response, response.status_code)
    assert_error(api.client.get("/trajectories/999999", headers=api.staff), 404)
    assert_error(api.client.get("/trajectories", params={"phase": 6}, headers=api.staff), 422)


def test_phase_change_is_dated_with_author(any_api: Api) -> None:
    api = any_api
    tid = _create(api)["id"]
    url = f"/trajectories/{tid}/phase"
    moved = api.client.post(url, json={"phase": 3, "effective_on": "2026-10-01"}, headers=api.staff)
    assert moved.status_code == 200, moved.text
    body = moved.json()
    assert body["trajectory"]["current_phase"] == 3
    assert body["phases"] == [
        {"phase": 1, "started_on": "2026-09-01", "completed_on": "2026-10-01"},
        {"phase": 3, "started_on": "2026-10-01", "completed_on": None},
    ]
    assert [
        (c["from_phase"], c["to_phase"], c["effective_on"], c["author"])
        for c in body["phase_changes"]
    ] == [(1, 3, "2026-10-01", "sam")]
    back = api.client.post(url, json={"phase": 1, "effective_on": "2026-10-02"}, headers=api.admin)
    assert back.json()["phases"] == [{"phase": 1, "started_on": "2026-09-01", "completed_on": None}]
    assert_error(
        api.client.post(url, json={"phase": 1, "effective_on": "2026-10-03"}, headers=api.staff),
        409,
    )
    early = api.client.post(url, json={"phase": 2, "effective_on": "2026-01-01"}, headers=api.staff)
    assert_error(early, 409)
    assert_error(
        api.client.post(url, json={"phase": 6, "effective_on": "2026-10-03"}, headers=api.staff),
        422,
    )
    assert_error(
        api.client.post(
            "/trajectories/999999/phase",
            json={"phase": 2, "effective_on": "2026-10-03"},
            headers=api.staff,
        ),
        404,
    )


def test_update_and_next_step(api: Api) -> None:
    tid = _create(api)["id"]
    updated = api.client.patch(
        f"/trajectories/{tid}",
        json={"survey_response_rate": 42.5, "audit_date": "2027-02-01", "target_stars": 2},
        headers=api.staff,
    )
    assert updated.status_code == 200
    assert updated.json()["survey_response_rate"] == 42.5
    assert updated.json()["trajectory"]["target_stars"] == 2
    assert_error(
        api.client.patch(f"/trajectories/{tid}", json={"current_phase": 4}, headers=api.staff), 422
    )
    assert_error(
        api.client.patch(f"/trajectories/{tid}", json={"facilitator_id": 99999}, headers=api.staff),
        409,
    )
    assert_error(
        api.client.patch(
            f"/trajectories/{tid}", json={"survey_response_rate": 101}, headers=api.staff
        ),
        422,
    )
    step = api.client.put(
        f"/trajectories/{tid}/next-step",
        json={"next_step": "Schouw plannen", "next_step_owner": "gemeente"},
        headers=api.staff,
    )
    assert step.json()["trajectory"]["next_step"] == "Schouw plannen"
    assert step.json()["next_step_owner"] == "gemeente"
    assert_error(
        api.client.put(
            f"/trajectories/{tid}/next-step", json={"next_step": "x" * 501}, headers=api.staff
        ),
        422,
    )
    assert_error(api.client.put("/trajectories/999999/next-step", json={}, headers=api.staff), 404)


def test_rotate_access_code_once(api: Api) -> None:
    created = _create(api)
    rotated = api.client.post(f"/trajectories/{created['id']}/access-code", headers=api.staff)
    assert rotated.status_code == 200
    new_code = rotated.json()["access_code"]
    assert new_code != created["access_code"]
    with api.session_factory() as session:  # type: ignore[operator]
        stored = session.get(Trajectory, created["id"])
        assert stored is not None
        assert verify_code(new_code, stored.access_code_hash, api.kvo_settings)
        assert not verify_code(
            str(created["access_code"]), stored.access_code_hash, api.kvo_settings
        )
    assert_error(api.client.post("/trajectories/999999/access-code", headers=api.staff), 404)
