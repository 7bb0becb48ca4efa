"""The municipality list (CBS), the contact-area rule, and the resolver of typed names."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from kvo.models import ContactArea
from kvo.municipalities import (
    DATA_DIR,
    InRegion,
    NotRecognised,
    OutsideRegion,
    contact_area_for,
    find_municipality_in_text,
    get_data,
    load_data,
    match_key,
    resolve_municipality,
)
from kvo.settings import Settings

# As stated by CBS, "Gemeentelijke indeling op 1 januari 2025".
CBS_COUNTS_2025 = {
    "Groningen": 10,
    "Fryslân": 18,
    "Drenthe": 12,
    "Overijssel": 25,
    "Flevoland": 6,
    "Gelderland": 51,
    "Utrecht": 26,
    "Noord-Holland": 44,
    "Zuid-Holland": 50,
    "Zeeland": 13,
    "Noord-Brabant": 56,
    "Limburg": 31,
}
ZWB, OB = ContactArea.ZEELAND_WEST_BRABANT, ContactArea.OOST_BRABANT


def test_counts_per_province_match_the_source(kvo_settings: Settings) -> None:
    data = get_data(kvo_settings)
    assert {p: len(m) for p, m in data.provinces.items()} == CBS_COUNTS_2025
    assert len(data.province_of) == sum(CBS_COUNTS_2025.values()) == 342
    assert "1 januari 2025" in data.source
    assert data.reference_date.isoformat() == "2025-01-01"


def test_names_are_unique_as_typed(kvo_settings: Settings) -> None:
    data = get_data(kvo_settings)
    keys = [match_key(m) for m in data.province_of]
    assert len(set(keys)) == len(keys)
    for municipality in data.province_of:
        assert resolve_municipality(municipality).municipality == municipality  # type: ignore[union-attr]


def test_every_region_municipality_has_exactly_one_contact_area(kvo_settings: Settings) -> None:
    data = get_data(kvo_settings)
    region = {m for m, p in data.province_of.items() if p in {"Noord-Brabant", "Zeeland"}}
    assert set(data.contact_areas) == region
    assert all(data.contact_areas[m] is ZWB for m in data.provinces["Zeeland"])
    counts = {area: list(data.contact_areas.values()).count(area) for area in ContactArea}
    assert counts == {ZWB: 13 + 25, OB: 31}


@pytest.mark.parametrize(
    ("municipality", "area"),
    [
        ("Tilburg", ZWB),  # Hart van Brabant belongs to the police unit Zeeland-West-Brabant
        ("Waalwijk", ZWB),
        ("Breda", ZWB),
        ("Moerdijk", ZWB),
        ("Terneuzen", ZWB),
        ("'s-Hertogenbosch", OB),
        ("Eindhoven", OB),
        ("Oss", OB),
        ("Helmond", OB),
        ("Amsterdam", None),
    ],
)
def test_contact_area_rule(municipality: str, area: ContactArea | None) -> None:
    assert contact_area_for(municipality) is area


@pytest.mark.parametrize(
    ("typed", "municipality", "place"),
    [
        ("Den Bosch", "'s-Hertogenbosch", None),
        ("den bosch", "'s-Hertogenbosch", None),
        ("'s-Hertogenbosch", "'s-Hertogenbosch", None),
        ("’s Hertogenbosch", "'s-Hertogenbosch", None),
        ("s-hertogenbosch", "'s-Hertogenbosch", None),
        ("Hertogenbosch", "'s-Hertogenbosch", None),
        ("Rosmalen", "'s-Hertogenbosch", "Rosmalen"),
        ("Veghel", "Meierijstad", "Veghel"),
        ("schijndel", "Meierijstad", "Schijndel"),
        ("Uden", "Maashorst", "Uden"),
        ("Biezelinge", "Kapelle", "Biezelinge"),
        ("gemeente Goes", "Goes", None),
        ("Gemeente GOES.", "Goes", None),
        ("nuenen", "Nuenen, Gerwen en Nederwetten", None),
        ("St. Michielsgestel", "Sint-Michielsgestel", None),
        ("Oosterhout", "Oosterhout", None),
        ("het is in Veghel hoor", "Meierijstad", "Veghel"),
        ("Best", "Best", None),  # the whole answer: no cue word needed
    ],
)
def test_recognised_in_the_region(typed: str, municipality: str, place: str | None) -> None:
    result = resolve_municipality(typed)
    assert isinstance(result, InRegion)
    assert (result.municipality, result.place) == (municipality, place)
    assert result.contact_area is contact_area_for(municipality)


@pytest.mark.parametrize(
    ("typed", "municipality", "province"),
    [
        ("Amsterdam", "Amsterdam", "Noord-Holland"),
        ("Den Haag", "'s-Gravenhage", "Zuid-Holland"),
        ("Sudwest Fryslan", "Súdwest-Fryslân", "Fryslân"),
        ("Maastricht", "Maastricht", "Limburg"),
        ("Zaltbommel", "Zaltbommel", "Gelderland"),  # close to Brabant, but Gelderland
    ],
)
def test_recognised_outside_the_region(typed: str, municipality: str, province: str) -> None:
    assert resolve_municipality(typed) == OutsideRegion(municipality, province)


@pytest.mark.parametrize(
    ("typed", "first_suggestion"),
    [
        ("Eindhovn", "Eindhoven"),
        ("Tilbrug", "Tilburg"),
        ("Middelburgh", "Middelburg"),
        ("Hertogenbos", "'s-Hertogenbosch"),
        ("Bergen", "Bergen op Zoom"),
    ],
)
def test_unknown_gets_close_suggestions_that_resolve(typed: str, first_suggestion: str) -> None:
    result = resolve_municipality(typed)
    assert isinstance(result, NotRecognised)
    assert result.suggestions[0] == first_suggestion
    assert len(result.suggestions) <= 3
    for suggestion in result.suggestions:
        assert not isinstance(resolve_municipality(suggestion), NotRecognised)


def test_ambiguous_bergen_offers_all_three() -> None:
    result = resolve_municipality("Bergen")
    assert result == NotRecognised(("Bergen op Zoom", "Bergen (NH.)", "Bergen (L.)"))


@pytest.mark.parametrize(
    ("typed", "province"), [("Zeeland", "Zeeland"), ("Brabant", "Noord-Brabant")]
)
def test_a_province_is_not_a_municipality(typed: str, province: str) -> None:
    result = resolve_municipality(typed)
    assert isinstance(result, NotRecognised)
    assert result.province == province


@pytest.mark.parametrize("typed", ["", "   ", "weet ik niet", "x" * 5000, "😀", "<b>Breda</b>?"])
def test_odd_input_is_handled(typed: str) -> None:
    result = resolve_municipality(typed)
    if typed.startswith("<b>"):
        assert isinstance(result, InRegion) and result.municipality == "Breda"
    else:
        assert isinstance(result, NotRecognised)


@pytest.mark.parametrize(
    ("sentence", "municipality", "words"),
    [
        ("een intake voor De Hurk in Eindhoven", "Eindhoven", "Eindhoven"),
        ("bedrijventerrein in den bosch", "'s-Hertogenbosch", "den bosch"),
        ("wij zitten in best", "Best", "best"),
        ("we komen uit Sas van Gent", "Terneuzen", "Sas van Gent"),
        ("kunnen jullie langskomen in Bergen op Zoom?", "Bergen op Zoom", "Bergen op Zoom"),
        ("Binnenstad Breda graag", "Breda", "Breda"),
        ("ons terrein ligt bij 's-Hertogenbosch", "'s-Hertogenbosch", "'s-Hertogenbosch"),
        ("gemeente Zaltbommel", "Zaltbommel", "Zaltbommel"),
    ],
)
def test_mentions_in_a_sentence(sentence: str, municipality: str, words: str) -> None:
    mention = find_municipality_in_text(sentence)
    assert mention is not None
    assert mention.match.municipality == municipality
    assert mention.text == words


@pytest.mark.parametrize(
    "sentence",
    [
        "ik wil best een afspraak",
        "Best wel een goede vraag",
        "wij willen starten met het KVO",
        "Putten is een woord",
        "kunnen jullie langskomen",
        "",
    ],
)
def test_ordinary_words_are_not_places(sentence: str) -> None:
    assert find_municipality_in_text(sentence) is None


def _write_rule(tmp_path: Path, move: str | None = None, drop: str | None = None) -> Path:
    rule = yaml.safe_load((DATA_DIR / "contact_areas.yml").read_text(encoding="utf-8"))
    areas = rule["contact_areas"]
    if move:
        areas["Zeeland en West-Brabant"].remove(move)
        areas["Oost-Brabant"].append(move)
    if drop:
        areas["Oost-Brabant"].remove(drop)
    path = tmp_path / "contact_areas.yml"
    path.write_text(yaml.safe_dump(rule, allow_unicode=True), encoding="utf-8")
    return path


def test_pvo_can_change_the_rule_without_code(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, contact_areas_file=_write_rule(tmp_path, move="Tilburg"))  # type: ignore[call-arg]
    assert contact_area_for("Tilburg", settings=settings) is OB
    assert contact_area_for("Tilburg") is ZWB  # the default file is untouched


def test_a_rule_file_missing_a_municipality_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no contact area for Oss"):
        load_data(contact_areas_file=_write_rule(tmp_path, drop="Oss"))
