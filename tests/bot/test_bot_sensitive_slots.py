"""The redacting tracker store's list of sensitive slots, in both endpoint files, matches the domain."""

from __future__ import annotations

from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
# Every slot that holds what a visitor typed about themselves, or a code.
PERSONAL_SLOTS = {
    "access_code",
    "intake_name",
    "intake_contact",
    "intake_email",
    "intake_phone",
    "intake_organisation",
    "intake_description",
    "callback_question",
    "manage_email",
}


def sensitive_slots(endpoints: str) -> set[str]:
    config = yaml.safe_load((REPO / endpoints).read_text(encoding="utf-8"))
    return set(config["tracker_store"]["sensitive_slots"])


def test_both_endpoint_files_redact_every_personal_slot_of_the_domain() -> None:
    domain_slots = set(yaml.safe_load((REPO / "domain.yml").read_text(encoding="utf-8"))["slots"])
    for endpoints in ("endpoints.yml", "deploy/endpoints.production.yml"):
        listed = sensitive_slots(endpoints)
        assert listed == PERSONAL_SLOTS, endpoints
        assert listed <= domain_slots, listed - domain_slots
