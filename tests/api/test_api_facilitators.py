"""Facilitators and availability over the API: create, update, weekly hours, block periods."""

from __future__ import annotations

from tests.api.support import Api, assert_error

NEW = {
    "name": "Fenna Fictief",
    "email": "Fenna@Example.org",
    "contact_area": "Oost-Brabant",
    "rules": [{"weekday": 1, "start_time": "09:00", "end_time": "12:00", "slot_minutes": 60}],
}


def test_create_update_block(api: Api) -> None:
    created = api.client.post("/facilitators", json=NEW, headers=api.staff)
    assert created.status_code == 201, created.text
    body = created.json()
    fid = body["id"]
    assert body["email"] == "fenna@example.org" and body["active"] is True
    assert body["rules"] == [
        {"weekday": 1, "start_time": "09:00:00", "end_time": "12:00:00", "slot_minutes": 60}
    ]
    assert_error(api.client.post("/facilitators", json=NEW, headers=api.staff), 409)
    assert [f["id"] for f in api.client.get("/facilitators", headers=api.staff).json()] == [fid]

    updated = api.client.patch(
        f"/facilitators/{fid}",
        json={
            "active": False,
            "rules": [{"weekday": 3, "start_time": "13:00", "end_time": "15:00"}],
        },
        headers=api.staff,
    ).json()
    assert updated["active"] is False and [r["weekday"] for r in updated["rules"]] == [3]

    block = api.client.post(
        f"/facilitators/{fid}/blocks",
        json={
            "starts_at": "2026-12-24T00:00:00+01:00",
            "ends_at": "2027-01-02T00:00:00+01:00",
            "reason": "verlof",
        },
        headers=api.staff,
    )
    assert block.status_code == 201
    block_id = block.json()["id"]
    detail = api.client.get(f"/facilitators/{fid}", headers=api.staff).json()
    assert [b["id"] for b in detail["blocks"]] == [block_id]
    assert (
        api.client.delete(f"/facilitators/{fid}/blocks/{block_id}", headers=api.staff).status_code
        == 204
    )
    assert_error(
        api.client.delete(f"/facilitators/{fid}/blocks/{block_id}", headers=api.staff), 404
    )


def test_validation_and_not_found(api: Api) -> None:
    for change in (
        {"email": "geen-adres"},
        {"contact_area": "Limburg"},
        {"name": ""},
        {"rules": [{"weekday": 7, "start_time": "09:00", "end_time": "12:00"}]},
        {"rules": [{"weekday": 1, "start_time": "09:00", "end_time": "12:00", "slot_minutes": 5}]},
    ):
        assert_error(
            api.client.post("/facilitators", json={**NEW, **change}, headers=api.staff), 422
        )
    reversed_rule = {"rules": [{"weekday": 1, "start_time": "12:00", "end_time": "09:00"}]}
    assert_error(
        api.client.post("/facilitators", json={**NEW, **reversed_rule}, headers=api.staff), 409
    )
    fid = api.client.post("/facilitators", json=NEW, headers=api.staff).json()["id"]
    naive = {"starts_at": "2026-12-24T00:00:00", "ends_at": "2026-12-25T00:00:00"}
    assert_error(api.client.post(f"/facilitators/{fid}/blocks", json=naive, headers=api.staff), 422)
    backwards = {"starts_at": "2026-12-25T00:00:00Z", "ends_at": "2026-12-24T00:00:00Z"}
    assert_error(
        api.client.post(f"/facilitators/{fid}/blocks", json=backwards, headers=api.staff), 409
    )
    assert_error(api.client.get("/facilitators/999999", headers=api.staff), 404)
    assert_error(api.client.patch("/facilitators/999999", json={}, headers=api.staff), 404)
    ok_block = {"starts_at": "2026-12-24T00:00:00Z", "ends_at": "2026-12-25T00:00:00Z"}
    assert_error(
        api.client.post("/facilitators/999999/blocks", json=ok_block, headers=api.staff), 404
    )
