"""Migration 0003_intake: the five old regions become the two contact areas, and back."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import create_engine, text

from kvo import migrate
from kvo.db import normalize_database_url

AREAS = [
    # name, municipality, province, old region, expected contact area
    ("A1", "Breda", "Noord-Brabant", "West-Brabant", "Zeeland en West-Brabant"),
    ("A2", "Tilburg", "Noord-Brabant", "Midden-Brabant", "Zeeland en West-Brabant"),
    ("A3", "Goes", "Zeeland", "Zeeland", "Zeeland en West-Brabant"),
    ("A4", "Oss", "Noord-Brabant", "Noordoost-Brabant", "Oost-Brabant"),
    ("A5", "Eindhoven", "Noord-Brabant", "Zuidoost-Brabant", "Oost-Brabant"),
    # Values outside the five: placed by province and municipality.
    ("A6", "Helmond", "Noord-Brabant", "Benchmark", "Oost-Brabant"),
    ("A7", "Roosendaal", "Noord-Brabant", "Benchmark", "Zeeland en West-Brabant"),
]
FACILITATORS = [
    ("f1@example.org", "West-Brabant", "Zeeland en West-Brabant"),
    ("f2@example.org", "Midden-Brabant", "Zeeland en West-Brabant"),
    ("f3@example.org", "Zeeland", "Zeeland en West-Brabant"),
    ("f4@example.org", "Noordoost-Brabant", "Oost-Brabant"),
    ("f5@example.org", "Zuidoost-Brabant", "Oost-Brabant"),
]


def test_regions_become_contact_areas_and_references_survive(
    kvo_backend: str, fresh_database_url: Callable[[str], str]
) -> None:
    url = fresh_database_url(kvo_backend)
    migrate.upgrade(url, "0001_initial")
    engine = create_engine(normalize_database_url(url))
    try:
        with engine.begin() as connection:
            for name, municipality, province, region, _ in AREAS:
                connection.execute(
                    text(
                        "INSERT INTO areas (name, kind, municipality, province, pvo_region)"
                        " VALUES (:n, 'winkelgebied', :m, :p, :r)"
                    ),
                    {"n": name, "m": municipality, "p": province, "r": region},
                )
            for email, region, _ in FACILITATORS:
                connection.execute(
                    text("INSERT INTO facilitators (name, region, email) VALUES ('X', :r, :e)"),
                    {"r": region, "e": email},
                )
            # A trajectory referencing both, so rebuilding the tables must keep the links.
            connection.execute(
                text(
                    "INSERT INTO trajectories (reference, area_id, kind, target_stars,"
                    " current_phase, facilitator_id, access_code_hash) SELECT 'KVO-2024-0001',"
                    " (SELECT min(id) FROM areas), 'hercertificering', 2, 1,"
                    " (SELECT min(id) FROM facilitators), 'x'"
                )
            )

        migrate.upgrade(url)
        with engine.connect() as connection:
            areas = dict(connection.execute(text("SELECT name, contact_area FROM areas")).all())
            facilitators = dict(
                connection.execute(text("SELECT email, contact_area FROM facilitators")).all()
            )
            active = connection.execute(text("SELECT count(*) FROM facilitators WHERE active"))
            linked = connection.execute(
                text("SELECT count(*) FROM trajectories t JOIN areas a ON a.id = t.area_id")
            )
            assert active.scalar() == len(FACILITATORS)
            assert linked.scalar() == 1
        assert areas == {name: area for name, *_, area in AREAS}
        assert facilitators == {email: area for email, _, area in FACILITATORS}

        migrate.downgrade(url, "0001_initial")
        with engine.connect() as connection:
            regions = dict(connection.execute(text("SELECT name, pvo_region FROM areas")).all())
            assert connection.execute(text("SELECT count(*) FROM trajectories")).scalar() == 1
        assert regions["A3"] == "Zeeland"
        assert regions["A1"] == "West-Brabant"
        assert regions["A5"] == "Zuidoost-Brabant"
    finally:
        engine.dispose()
