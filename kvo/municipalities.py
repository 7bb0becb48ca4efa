"""Recognise Dutch municipalities in what visitors type, and route them to a contact area.

Data (no code change needed to update it):

- ``kvo/data/municipalities.yml``: every Dutch municipality with its province (CBS list,
  source and reference date in the file), other names for some of them, and place names
  that belong to one municipality (Veghel -> Meierijstad);
- ``kvo/data/contact_areas.yml`` (or ``PVO_CONTACT_AREAS_FILE``): which municipality of
  Noord-Brabant and Zeeland belongs to which PVO contact area.

Matching ignores case, diacritics, punctuation, "gemeente" and the forms of "'s-"
("s-Hertogenbosch", "'s Hertogenbosch", "Hertogenbosch" all find 's-Hertogenbosch).
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any, Union

import yaml

from kvo.models import ContactArea
from kvo.settings import Settings, get_settings

DATA_DIR = Path(__file__).resolve().parent / "data"
MUNICIPALITIES_FILE = DATA_DIR / "municipalities.yml"
REGION_PROVINCES = frozenset({"Noord-Brabant", "Zeeland"})

# Names of provinces (and everyday forms) that are not also a municipality's name.
_PROVINCE_NAMES = {
    "noord brabant": "Noord-Brabant",
    "brabant": "Noord-Brabant",
    "zeeland": "Zeeland",
    "fryslan": "Fryslân",
    "friesland": "Fryslân",
    "drenthe": "Drenthe",
    "overijssel": "Overijssel",
    "flevoland": "Flevoland",
    "gelderland": "Gelderland",
    "noord holland": "Noord-Holland",
    "zuid holland": "Zuid-Holland",
    "limburg": "Limburg",
}
# Words that introduce a place: "in Best", "uit Duiven", "gemeente Goes".
_CUES = frozenset(
    {"in", "uit", "te", "bij", "nabij", "rond", "rondom", "omgeving", "gemeente", "regio", "buurt"}
)
# Place names that are also ordinary Dutch words (or first names): in a sentence they only
# count after a cue word ("wij zitten in Best"), never on their own ("ik wil best ...").
_COMMON_WORDS = frozenset(
    {
        "axel", "bath", "beek", "best", "buren", "dorst", "duiven", "echt", "grave", "handel",
        "hank", "hoorn", "houten", "huizen", "hulst", "kampen", "laren", "losser", "made",
        "mill", "philippine", "putten", "rijen", "sluis", "son", "stein", "waarde", "weert",
        "wouw", "zegge",
    }
)  # fmt: skip
_MAX_INPUT_CHARS = 500
_SUGGESTION_CUTOFF = 0.75
_MAX_SUGGESTIONS = 3


# --- results -------------------------------------------------------------------------


@dataclass(frozen=True)
class InRegion:
    """A municipality in Noord-Brabant or Zeeland: PVO Brabant-Zeeland's work area."""

    municipality: str
    province: str
    contact_area: ContactArea
    place: str | None = None  # the place typed, when it is not the municipality itself


@dataclass(frozen=True)
class OutsideRegion:
    """A recognised municipality in another province: refer to that region's PVO."""

    municipality: str
    province: str
    place: str | None = None


@dataclass(frozen=True)
class NotRecognised:
    """No municipality found; re-ask with up to three close names (may be empty)."""

    suggestions: tuple[str, ...] = ()
    province: str | None = None  # set when the text named a province instead


MunicipalityMatch = Union[InRegion, OutsideRegion, NotRecognised]  # noqa: UP007 - runtime alias


@dataclass(frozen=True)
class Mention:
    """A municipality found inside a longer message, with the words that named it."""

    match: InRegion | OutsideRegion
    text: str  # the words as the visitor typed them


# --- data ----------------------------------------------------------------------------


@dataclass(frozen=True)
class MunicipalityData:
    source: str
    reference_date: date
    provinces: Mapping[str, tuple[str, ...]]  # province -> municipalities
    province_of: Mapping[str, str]  # municipality -> province
    names: Mapping[str, tuple[str, str | None]]  # key -> (municipality, place or None)
    display: Mapping[str, str]  # key -> the name as written in the data (for suggestions)
    contact_areas: Mapping[str, ContactArea]  # municipality -> contact area (region only)
    max_words: int


def match_key(text: str) -> str:
    """The comparison form of a name: lower case ASCII words, single spaces.

    "'s-Hertogenbosch" -> "s hertogenbosch"; "Súdwest-Fryslân" -> "sudwest fryslan";
    "Bergen (NH.)" -> "bergen nh".
    """
    folded = unicodedata.normalize("NFKD", text)
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch)).lower()
    folded = re.sub(r"['\u2018\u2019`\u00b4]", "", folded)  # 's -> s
    folded = re.sub(r"[^a-z0-9]+", " ", folded).strip()
    return re.sub(r"\bst\b", "sint", folded)  # "St. Michielsgestel"


def _strip_key_prefixes(key: str) -> str:
    for prefix in ("de gemeente ", "gemeente ", "gem "):
        if key.startswith(prefix):
            return key[len(prefix) :]
    return key


def _add_name(
    names: dict[str, tuple[str, str | None]],
    display: dict[str, str],
    name: str,
    municipality: str,
    place: str | None,
) -> None:
    key = match_key(name)
    existing = names.get(key)
    if existing is not None and existing[0] != municipality:
        raise ValueError(f"name {name!r} points to both {existing[0]!r} and {municipality!r}")
    names.setdefault(key, (municipality, place))
    display.setdefault(key, name)
    if key.startswith("s "):  # "'s-Hertogenbosch" is also typed without the 's
        names.setdefault(key[2:], (municipality, place))


def _load_yaml(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        loaded = yaml.safe_load(handle)
    if not isinstance(loaded, dict):
        raise ValueError(f"{path.name}: expected a mapping at the top")
    return loaded


def _contact_areas(
    raw: dict[str, Any], province_of: Mapping[str, str], path: Path
) -> dict[str, ContactArea]:
    result: dict[str, ContactArea] = {}
    for area_name, municipalities in (raw.get("contact_areas") or {}).items():
        area = ContactArea(area_name)
        for municipality in municipalities:
            if province_of.get(municipality) not in REGION_PROVINCES:
                raise ValueError(
                    f"{path.name}: {municipality!r} is not a municipality of Noord-Brabant or Zeeland"
                )
            if municipality in result:
                raise ValueError(f"{path.name}: {municipality!r} is in two contact areas")
            result[municipality] = area
    missing = sorted(m for m, p in province_of.items() if p in REGION_PROVINCES and m not in result)
    if missing:
        raise ValueError(f"{path.name}: no contact area for {', '.join(missing)}")
    return result


def load_data(
    municipalities_file: Path = MUNICIPALITIES_FILE, contact_areas_file: Path | None = None
) -> MunicipalityData:
    """Read and check both data files; raises ``ValueError`` naming the problem."""
    contact_areas_file = contact_areas_file or DATA_DIR / "contact_areas.yml"
    raw = _load_yaml(municipalities_file)
    provinces = {
        province: tuple(municipalities) for province, municipalities in raw["provinces"].items()
    }
    province_of: dict[str, str] = {}
    names: dict[str, tuple[str, str | None]] = {}
    display: dict[str, str] = {}
    for province, municipalities in provinces.items():
        for municipality in municipalities:
            if municipality in province_of:
                raise ValueError(f"{municipality!r} is listed twice")
            province_of[municipality] = province
            _add_name(names, display, municipality, municipality, None)
    for municipality, aliases in (raw.get("aliases") or {}).items():
        if municipality not in province_of:
            raise ValueError(f"alias for unknown municipality {municipality!r}")
        for alias in aliases:
            # Suggestions show the official name, not the alias that came close.
            _add_name(names, display, alias, municipality, None)
            display[match_key(alias)] = municipality
    for municipality, places in (raw.get("places") or {}).items():
        if municipality not in province_of:
            raise ValueError(f"places for unknown municipality {municipality!r}")
        for place in places:
            if match_key(place) in names:
                raise ValueError(f"place {place!r} is already a municipality or alias")
            _add_name(names, display, place, municipality, place)
    areas = _contact_areas(_load_yaml(contact_areas_file), province_of, contact_areas_file)
    return MunicipalityData(
        source=str(raw["source"]),
        reference_date=raw["reference_date"],
        provinces=provinces,
        province_of=province_of,
        names=names,
        display=display,
        contact_areas=areas,
        max_words=max(len(key.split()) for key in names),
    )


@lru_cache(maxsize=4)
def _cached_data(contact_areas_file: str) -> MunicipalityData:
    return load_data(contact_areas_file=Path(contact_areas_file))


def get_data(settings: Settings | None = None) -> MunicipalityData:
    """The data for the configured contact-area file (read once per process)."""
    settings = settings or get_settings()
    return _cached_data(str(settings.contact_areas_file))


# --- resolving -----------------------------------------------------------------------


def _result(
    data: MunicipalityData, municipality: str, place: str | None
) -> InRegion | OutsideRegion:
    province = data.province_of[municipality]
    area = data.contact_areas.get(municipality)
    if area is not None:
        return InRegion(municipality, province, area, place)
    return OutsideRegion(municipality, province, place)


def _suggestions(data: MunicipalityData, key: str) -> tuple[str, ...]:
    """Up to three names to offer (as the data writes them), each resolving to a municipality."""

    # A short name shared by several ("Bergen") is the start of the names it could mean;
    # those come first, then names that look alike. Within each, PVO's own region first.
    def in_region_first(keys: list[str]) -> list[str]:
        return sorted(keys, key=lambda k: data.names[k][0] not in data.contact_areas)

    starting = in_region_first([k for k in data.display if k.startswith(key + " ")])
    similar = in_region_first(
        difflib.get_close_matches(
            key, list(data.display), n=_MAX_SUGGESTIONS * 2, cutoff=_SUGGESTION_CUTOFF
        )
    )
    found: list[str] = []
    seen: set[str] = set()
    for candidate in starting + similar:
        municipality, _place = data.names[candidate]
        if municipality not in seen:
            seen.add(municipality)
            found.append(data.display[candidate])
    return tuple(found[:_MAX_SUGGESTIONS])


def resolve_municipality(
    text: str | None, *, settings: Settings | None = None
) -> MunicipalityMatch:
    """What the visitor answered to "in welke gemeente?".

    The whole answer is tried first ("Den Bosch", "gemeente Goes"), then a mention
    inside it ("het is in Veghel"); otherwise up to three close names.
    """
    data = get_data(settings)
    key = _strip_key_prefixes(match_key((text or "")[:_MAX_INPUT_CHARS]))
    if not key:
        return NotRecognised()
    if key in data.names:
        return _result(data, *data.names[key])
    mention = _find(data, text or "")
    if mention is not None:
        return mention.match
    return NotRecognised(_suggestions(data, key), _PROVINCE_NAMES.get(key))


_WORD_RE = re.compile(r"[^\W_]+", re.UNICODE)


def _tokens(text: str) -> list[tuple[str, str, int, int]]:
    """(word, key, start, end) per word; hyphens and apostrophes separate words."""
    tokens = []
    for match in _WORD_RE.finditer(text):
        key = match_key(match.group(0))
        if key:
            tokens.append((match.group(0), key, match.start(), match.end()))
    return tokens


def _find(data: MunicipalityData, text: str) -> Mention | None:
    text = text[:_MAX_INPUT_CHARS]
    tokens = _tokens(text)
    keys = [token[1] for token in tokens]
    for start in range(len(tokens)):
        for length in range(min(data.max_words, len(tokens) - start), 0, -1):
            candidate = " ".join(keys[start : start + length])
            if candidate not in data.names:
                continue
            if not _plausible(tokens, start, length, candidate):
                continue
            begin = tokens[start][2]
            if begin > 0 and text[begin - 1] in "'\u2018\u2019":  # keep the ' of 's-Hertogenbosch
                begin -= 1
            words = text[begin : tokens[start + length - 1][3]]
            return Mention(_result(data, *data.names[candidate]), words)
    return None


def _plausible(tokens: list[tuple[str, str, int, int]], start: int, length: int, key: str) -> bool:
    """Whether words in a sentence are meant as a place name rather than ordinary words."""
    after_cue = start > 0 and tokens[start - 1][1] in _CUES
    if after_cue:
        return True
    if key in _COMMON_WORDS:
        return False
    first_word = tokens[start][0]
    # Lower-case single words need a cue ("in eindhoven"); capitals or several words do not.
    return length > 1 or first_word[:1].isupper()


def find_municipality_in_text(
    text: str | None, *, settings: Settings | None = None
) -> Mention | None:
    """The first municipality (or known place) a free-text message names, if any.

    "een intake voor De Hurk in Eindhoven" -> Eindhoven. Words that are also ordinary
    Dutch words ("best", "putten") count only after "in", "uit", "bij", "gemeente" etc.
    """
    if not text:
        return None
    return _find(get_data(settings), text)


def contact_area_for(municipality: str, *, settings: Settings | None = None) -> ContactArea | None:
    """The contact area of a municipality (exact name as in the data), or None outside the region."""
    return get_data(settings).contact_areas.get(municipality)


def all_municipalities(*, settings: Settings | None = None) -> Iterable[tuple[str, str]]:
    """(municipality, province) for every Dutch municipality, in data order."""
    data = get_data(settings)
    for province, municipalities in data.provinces.items():
        for municipality in municipalities:
            yield municipality, province
