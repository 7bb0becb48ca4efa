"""Command line for operators: ``python -m kvo ...``.

Expected problems (database unreachable, unknown reference, schema not yet
migrated, not a demo database) end with a one-line message and exit code 1,
never a traceback. Access codes are printed only by ``access-code rotate``,
once, to stdout. Personal data of leads is printed only by ``leads show`` and
``leads export``.
"""

from __future__ import annotations

import enum
import signal
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer
from alembic.util.exc import CommandError
from sqlalchemy import Engine, exc
from sqlalchemy.orm import Session

from kvo import db_purpose, lockout_admin, migrate, retention, users, visitor_questions
from kvo.bench_data import generate_bench_data
from kvo.db import StoreUnavailable, make_engine, safe_url, session_scope
from kvo.demo_data import load_demo_data
from kvo.errors import InvalidReference, NotADemoDatabase, RealDataPresent, UnknownReference
from kvo.lead_status import LABELS, parse_status
from kvo.leads import (
    SORT_FIELDS,
    Erased,
    LeadQuery,
    TransitionRefused,
    change_status,
    erase_lead_personal_data,
    find_lead_id,
    get_lead,
    iter_leads_csv,
    list_leads,
    purge_expired,
)
from kvo.mail import DeliveryReport, mail_overview, run_worker
from kvo.mail_sink import start_sink
from kvo.models import AreaKind, ContactArea, LeadKind, LeadStatus, UserRole
from kvo.settings import REPO_ROOT, Settings
from kvo.timeutil import utc_now
from kvo.trajectory_admin import rotate_access_code

app = typer.Typer(
    help="Beheer van de KVO-database van de PVO-assistent.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Databaseschema (Alembic-migraties).", no_args_is_help=True)
demo_app = typer.Typer(help="Demodata.", no_args_is_help=True)
code_app = typer.Typer(help="Toegangscodes voor de statusopvraag.", no_args_is_help=True)
lockouts_app = typer.Typer(
    help="Blokkades na te veel mislukte statusopvragingen.", no_args_is_help=True
)
conversations_app = typer.Typer(
    help="Gesprekken in de tracker store van Rasa (bewaartermijn).", no_args_is_help=True
)
app.add_typer(db_app, name="db")
app.add_typer(demo_app, name="demo")
app.add_typer(code_app, name="access-code")
app.add_typer(lockouts_app, name="lockouts")
app.add_typer(conversations_app, name="conversations")

YesOption = Annotated[
    bool, typer.Option("--yes", "-y", help="Niet om bevestiging vragen.", show_default=False)
]
CreateDemoOption = Annotated[
    bool,
    typer.Option(
        "--create-demo",
        help="Markeer de database eerst als demodatabase, als die leeg is of alleen "
        "demo- of benchmarkdata bevat.",
        show_default=False,
    ),
]

DatabaseUrlOption = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="Database-URL; standaard DATABASE_URL of de SQLite-file in var/.",
        show_default=False,
    ),
]


class _State:
    database_url: str | None = None


_state = _State()


@app.callback()
def _main(database_url: DatabaseUrlOption = None) -> None:
    _state.database_url = database_url


def _fail(message: str) -> typer.Exit:
    typer.echo(f"Fout: {message}", err=True)
    return typer.Exit(code=1)


def _settings() -> Settings:
    # Fresh settings per run: the CLI must see the current environment.
    settings = Settings()
    if _state.database_url:
        settings = settings.model_copy(update={"database_url": _state.database_url})
    return settings


@contextmanager
def _engine(settings: Settings) -> Iterator[Engine]:
    engine = make_engine(settings.database_url, settings)
    try:
        yield engine
    finally:
        engine.dispose()


@contextmanager
def _expected_errors(settings: Settings) -> Iterator[None]:
    """Turn known failures into a message + exit 1 (no traceback, no secrets)."""
    where = safe_url(settings.database_url)
    try:
        yield
    except (StoreUnavailable, exc.OperationalError, exc.InterfaceError) as error:
        raise _fail(f"database niet bereikbaar ({where}).") from error
    except CommandError as error:
        raise _fail(f"migratie mislukt: {error}") from error
    except NotADemoDatabase as error:
        raise _fail(
            f"{where} is niet gemarkeerd als demodatabase; demo- en benchmarkdata komen alleen in"
            " een demodatabase. Er is niets gewijzigd. Gebruik een lege database met"
            " `--create-demo`, of markeer een testdatabase met `python -m kvo db mark-demo`."
        ) from error
    except RealDataPresent as error:
        raise _fail(
            f"{where} bevat {error.rows} rijen die niet van de demo- of benchmarkdata komen en is"
            " geen demodatabase. Er is niets gewijzigd. Gebruik een lege database voor de demo."
        ) from error


def _confirm(question: str, yes: bool) -> None:
    """Ask before a destructive step; --yes answers for scripts. No answer means no."""
    if yes:
        return
    try:
        confirmed = typer.confirm(question, default=False)
    except typer.Abort:  # end of input (no terminal): not confirmed
        confirmed = False
    if not confirmed:
        raise _fail("niet bevestigd; er is niets gewijzigd.")


def _prepare_demo(session: Session, create_demo: bool) -> None:
    if create_demo and db_purpose.mark_demo(session):
        typer.echo("Database gemarkeerd als demodatabase.", err=True)


def _require_current_schema(engine: Engine) -> None:
    if not migrate.is_up_to_date(engine):
        raise _fail(
            "het databaseschema is niet actueel; voer eerst `python -m kvo db upgrade` uit."
        )


@db_app.command("upgrade")
def db_upgrade(
    revision: Annotated[str, typer.Argument(help="Doelrevisie.")] = "head",
) -> None:
    """Breng het databaseschema naar de nieuwste (of opgegeven) revisie."""
    settings = _settings()
    with _expected_errors(settings):
        migrate.upgrade(settings.database_url, revision)
    typer.echo(f"Schema bijgewerkt tot {revision} ({safe_url(settings.database_url)}).")


@db_app.command("downgrade")
def db_downgrade(
    revision: Annotated[
        str,
        typer.Argument(
            help="Doelrevisie (verplicht), bijv. 0001_initial, -1 of base.", show_default=False
        ),
    ],
    yes: YesOption = False,
) -> None:
    """Draai migraties terug tot de opgegeven revisie; tabellen van latere revisies en hun
    gegevens verdwijnen."""
    settings = _settings()
    _confirm(
        f"Schema van {safe_url(settings.database_url)} terugzetten naar {revision}? Tabellen en"
        " kolommen van latere revisies worden met hun gegevens verwijderd.",
        yes,
    )
    with _expected_errors(settings):
        migrate.downgrade(settings.database_url, revision)
    typer.echo(f"Schema teruggezet naar {revision} ({safe_url(settings.database_url)}).")


@db_app.command("mark-demo")
def db_mark_demo(yes: YesOption = False) -> None:
    """Markeer de database als demodatabase: daarna mogen demo- en benchmarkdata erin."""
    settings = _settings()
    with _expected_errors(settings), _engine(settings) as engine:
        _require_current_schema(engine)
        with session_scope(engine) as session:
            rows = db_purpose.real_data_rows(session)
            if rows:
                _confirm(
                    f"{safe_url(settings.database_url)} bevat {rows} rijen die niet van de demo-"
                    " of benchmarkdata komen. Demodata overschrijven trajecten en toegangscodes."
                    " Toch als demodatabase markeren?",
                    yes,
                )
            changed = db_purpose.mark_demo(session, allow_real_data=True)
    state = "gemarkeerd als" if changed else "was al een"
    typer.echo(f"{safe_url(settings.database_url)} {state} demodatabase.")


@db_app.command("current")
def db_current() -> None:
    """Toon de huidige schemarevisie."""
    settings = _settings()
    with _expected_errors(settings), _engine(settings) as engine:
        current = migrate.current_revision(engine)
    typer.echo(f"Huidige revisie: {current or 'geen'} (nieuwste: {migrate.head_revision()}).")


@demo_app.command("load")
def demo_load(create_demo: CreateDemoOption = False) -> None:
    """Laad de demotrajecten in een demodatabase (idempotent: nogmaals draaien verandert niets)."""
    settings = _settings()
    with _expected_errors(settings), _engine(settings) as engine:
        _require_current_schema(engine)
        with session_scope(engine) as session:
            _prepare_demo(session, create_demo)
            result = load_demo_data(session, settings=settings)
    typer.echo(
        f"Demodata: {result.created} nieuw, {result.updated} bijgewerkt, "
        f"{result.unchanged} ongewijzigd."
    )


@code_app.command("rotate")
def access_code_rotate(
    reference: Annotated[str, typer.Argument(help="Trajectreferentie, bijv. KVO-2024-0031.")],
) -> None:
    """Geef een traject een nieuwe toegangscode; de oude werkt daarna niet meer."""
    settings = _settings()
    with _expected_errors(settings), _engine(settings) as engine:
        _require_current_schema(engine)
        try:
            with session_scope(engine) as session:
                canonical, code = rotate_access_code(session, reference, settings=settings)
        except InvalidReference:
            raise _fail("geen geldige referentie; verwacht KVO-JJJJ-NNNN.") from None
        except UnknownReference as error:
            raise _fail(f"onbekende referentie {error.args[0]}.") from None
    typer.echo(f"Nieuwe toegangscode voor {canonical} (wordt maar één keer getoond):", err=True)
    typer.echo(code)


@app.command("bench-data")
def bench_data(
    count: Annotated[int, typer.Argument(min=1, help="Gewenst aantal benchmarktrajecten.")],
    create_demo: CreateDemoOption = False,
) -> None:
    """Vul een demodatabase met synthetische trajecten (referenties vanaf KVO-2060-0001)."""
    settings = _settings()

    def progress(done: int, total: int) -> None:
        typer.echo(f"  {done}/{total}", err=True)

    with _expected_errors(settings), _engine(settings) as engine:
        _require_current_schema(engine)
        with session_scope(engine) as session:
            _prepare_demo(session, create_demo)
            added = generate_bench_data(session, count, settings=settings, progress=progress)
    typer.echo(f"{added} benchmarktrajecten toegevoegd (zie kvo/bench_data.py voor de code).")


_SCOPE_NAMES = {"reference": "referentie", "conversation": "gesprek", "client": "client"}


def _local(moment: datetime, settings: Settings) -> str:
    return f"{moment.astimezone(settings.tzinfo):%Y-%m-%d %H:%M}"


@lockouts_app.command("list")
def lockouts_list(
    show_all: Annotated[
        bool,
        typer.Option(
            "--all", help="Ook sleutels met mislukte pogingen die (nog) niet geblokkeerd zijn."
        ),
    ] = False,
) -> None:
    """Toon wat nu geblokkeerd is: referentie of sleutel, tot wanneer, en het aantal pogingen."""
    settings = _settings()
    with _expected_errors(settings), _engine(settings) as engine:
        _require_current_schema(engine)
        with session_scope(engine) as session:
            entries = lockout_admin.list_lockouts(
                session, settings=settings, include_unlocked=show_all
            )
    if not entries:
        typer.echo("Geen blokkades." if not show_all else "Geen mislukte pogingen in het venster.")
        return
    typer.echo(f"{'Soort':<11} {'Referentie/sleutel':<18} {'Pogingen':>8}  Geblokkeerd tot")
    for entry in entries:
        until = _local(entry.locked_until, settings) if entry.locked_until else "-"
        typer.echo(f"{_SCOPE_NAMES[entry.scope]:<11} {entry.key:<18} {entry.failures:>8}  {until}")


@lockouts_app.command("clear")
def lockouts_clear(
    reference: Annotated[
        str | None,
        typer.Argument(help="Trajectreferentie, bijv. KVO-2024-0031.", show_default=False),
    ] = None,
    key: Annotated[
        str | None,
        typer.Option(
            "--key",
            help=f"Gespreks- of clientsleutel zoals `lockouts list` die toont "
            f"(minstens {lockout_admin.KEY_PREFIX_LENGTH} tekens).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Hef een blokkade op: vergeet de mislukte pogingen van een referentie of sleutel."""
    if (reference is None) == (key is None):
        raise _fail("geef een referentie of --key, niet allebei en niet geen van beide.")
    settings = _settings()
    with _expected_errors(settings), _engine(settings) as engine:
        _require_current_schema(engine)
        try:
            with session_scope(engine) as session:
                if reference is not None:
                    what, removed = lockout_admin.clear_reference(session, reference)
                else:
                    what, removed = key or "", lockout_admin.clear_key(session, key or "")
        except InvalidReference:
            raise _fail("geen geldige referentie; verwacht KVO-JJJJ-NNNN.") from None
        except ValueError:
            raise _fail(
                f"geen geldige sleutel; gebruik minstens {lockout_admin.KEY_PREFIX_LENGTH}"
                " tekens zoals `lockouts list` ze toont."
            ) from None
    typer.echo(f"{removed} mislukte pogingen van {what} verwijderd.")


@conversations_app.command("purge")
def conversations_purge(
    older_than_days: Annotated[
        int | None,
        typer.Option(
            "--older-than-days",
            min=1,
            help="Bewaartermijn in dagen; standaard PVO_CONVERSATION_RETENTION_DAYS (30).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Verwijder gesprekken waarvan het laatste bericht ouder is dan de bewaartermijn.

    Uit de tracker store (TRACKER_DB_URL) en, als EVENTS_DB_URL gezet is, uit de database van
    de event broker. Plan dit dagelijks in (bijv. cron).
    """
    settings = _settings()
    days = older_than_days or settings.conversation_retention_days
    cutoff = retention.cutoff_for(days, utc_now())
    purged: list[str] = []
    if not settings.tracker_db_url:
        typer.echo(
            "TRACKER_DB_URL is niet gezet: de tracker store staat in het geheugen en bewaart"
            " niets na het stoppen van de Rasa-server. Daar is niets te verwijderen."
        )
    else:
        purged = _purge_store(
            "Tracker store",
            settings.tracker_db_url,
            days,
            lambda engine: retention.purge_tracker_store(engine, cutoff),
        )
    # Rasa's stock SQL broker keeps a table `events`; ours keeps `visitor_events` (it may be
    # the same database, or the broker's default file when EVENTS_DB_URL is not set).
    stock_broker = settings.events_db_url and retention.has_events_table(settings.events_db_url)
    if stock_broker:
        _purge_store(
            "Event broker",
            settings.events_db_url,
            days,
            lambda engine: (retention.purge_event_broker(engine, cutoff, purged), []),
        )
    _purge_visitor_events(settings, days, cutoff, purged, required=not stock_broker)


def _purge_visitor_events(
    settings: Settings, days: int, cutoff: datetime, also: list[str], *, required: bool
) -> None:
    """Raw events of "What visitors ask" follow the conversation retention; their weekly
    counts (no personal data) are kept."""
    url = visitor_questions.events_url(settings)
    where = safe_url(url)
    if not settings.events_db_url and not visitor_questions.DEFAULT_EVENTS_DB.exists():
        return
    engine = visitor_questions.events_engine(url, create=False)
    try:
        if not visitor_questions.has_visitor_events(engine):
            return
        result = visitor_questions.purge_raw(
            engine, cutoff, conversation_ids=also, tz=settings.tzinfo
        )
    except (exc.OperationalError, exc.InterfaceError) as error:
        if not required:
            return
        raise _fail(f"database niet bereikbaar ({where}).") from error
    finally:
        engine.dispose()
    typer.echo(
        f"Vragen van bezoekers ({where}):"
        f" {_count(result.conversations, 'gesprek', 'gesprekken')} ouder dan"
        f" {_count(days, 'dag', 'dagen')} verwijderd ({result.events} events,"
        f" {_count(result.feedback, 'beoordeling', 'beoordelingen')}); weektotalen blijven bewaard."
    )


def _count(number: int, one: str, more: str) -> str:
    return f"{number} {one if number == 1 else more}"


def _purge_store(
    label: str,
    url: str,
    days: int,
    purge: Callable[[Engine], tuple[retention.StorePurge, list[str]]],
) -> list[str]:
    where = safe_url(url)
    engine = retention.store_engine(url)
    try:
        result, purged = purge(engine)
    except (exc.OperationalError, exc.InterfaceError) as error:
        raise _fail(f"database niet bereikbaar ({where}).") from error
    except retention.NoEventsTable:
        raise _fail(
            f"{where} heeft geen tabel events; is dit de database van Rasa's SQL tracker store"
            " of event broker?"
        ) from None
    finally:
        engine.dispose()
    typer.echo(
        f"{label} ({where}): {_count(result.conversations, 'gesprek', 'gesprekken')} ouder dan"
        f" {_count(days, 'dag', 'dagen')} verwijderd ({result.events} events)."
    )
    return purged


# --- intake: leads and mail ------------------------------------------------------------

leads_app = typer.Typer(
    help="Intake-leads: boekingen en terugbelverzoeken uit de chat.", no_args_is_help=True
)
mail_app = typer.Typer(
    help="Meldingen per e-mail: worker, lokale SMTP-sink, status.", no_args_is_help=True
)
app.add_typer(leads_app, name="leads")
app.add_typer(mail_app, name="mail")

_CONTACT_AREA_CODES = {area.code: area for area in ContactArea}


def _choices[T](
    values: list[str] | None, parse: Callable[[str], T | None], what: str
) -> tuple[T, ...]:
    parsed = []
    for value in values or []:
        item = parse(value)
        if item is None:
            raise _fail(f"onbekende {what}: {value}.")
        parsed.append(item)
    return tuple(parsed)


def _lead_query(
    status: list[str] | None,
    kind: list[str] | None,
    contact_area: list[str] | None,
    area_kind: list[str] | None,
    created_from: str | None,
    created_to: str | None,
    sort: str,
    ascending: bool,
    page: int = 1,
    page_size: int = 50,
) -> LeadQuery:
    def parse_date(text: str | None) -> date | None:
        if text is None:
            return None
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise _fail(f"ongeldige datum {text}; gebruik JJJJ-MM-DD.") from None

    if sort not in SORT_FIELDS:
        raise _fail(f"onbekende sortering {sort}; kies uit {', '.join(SORT_FIELDS)}.")
    return LeadQuery(
        statuses=_choices(status, parse_status, "status"),
        kinds=_choices(kind, _parse_enum(LeadKind), "soort"),
        contact_areas=_choices(contact_area, _CONTACT_AREA_CODES.get, "contactgebied"),
        area_kinds=_choices(area_kind, _parse_enum(AreaKind), "soort gebied"),
        created_from=parse_date(created_from),
        created_to=parse_date(created_to),
        sort=sort,
        descending=not ascending,
        page=page,
        page_size=page_size,
    )


def _parse_enum[E: enum.Enum](enum_cls: type[E]) -> Callable[[str], E | None]:
    def parse(text: str) -> E | None:
        try:
            return enum_cls(text.strip().lower())
        except ValueError:
            return None

    return parse


StatusOption = Annotated[
    list[str] | None,
    typer.Option(
        "--status", help="nieuw, in_behandeling, gepland, afgerond, afgewezen, geannuleerd."
    ),
]
KindOption = Annotated[list[str] | None, typer.Option("--soort", help="intake of terugbelverzoek.")]
AreaOption = Annotated[
    list[str] | None,
    typer.Option("--contactgebied", help="zwb (Zeeland en West-Brabant) of ob (Oost-Brabant)."),
]
AreaKindOption = Annotated[
    list[str] | None,
    typer.Option("--soort-gebied", help="winkelgebied, bedrijventerrein of buitengebied."),
]
FromOption = Annotated[str | None, typer.Option("--van", help="Aangemaakt vanaf (JJJJ-MM-DD).")]
ToOption = Annotated[str | None, typer.Option("--tot", help="Aangemaakt tot en met (JJJJ-MM-DD).")]
SortOption = Annotated[
    str, typer.Option("--sorteer", help="created_at, slot_start, status, kind, contact_area, ...")
]
AscOption = Annotated[bool, typer.Option("--oplopend", help="Oudste eerst (standaard nieuwste).")]


def _local_or_dash(moment: datetime | None, settings: Settings) -> str:
    return _local(moment, settings) if moment else "-"


def _lead_id(session: Session, text: str) -> int:
    lead_id = find_lead_id(session, text)
    if lead_id is None:
        raise _fail(f"geen lead gevonden voor {text}.")
    return lead_id


@leads_app.command("list")
def leads_list(
    status: StatusOption = None,
    kind: KindOption = None,
    contact_area: AreaOption = None,
    area_kind: AreaKindOption = None,
    created_from: FromOption = None,
    created_to: ToOption = None,
    sort: SortOption = "created_at",
    ascending: AscOption = False,
    page: Annotated[int, typer.Option("--pagina", min=1)] = 1,
    page_size: Annotated[int, typer.Option("--per-pagina", min=1, max=500)] = 50,
) -> None:
    """Toon leads (zonder persoonsgegevens; nieuwste eerst)."""
    settings = _settings()
    query = _lead_query(
        status, kind, contact_area, area_kind, created_from, created_to, sort, ascending, page,
        page_size,
    )  # fmt: skip
    with _expected_errors(settings), _engine(settings) as engine:
        _require_current_schema(engine)
        with session_scope(engine) as session:
            result = list_leads(session, query, settings=settings)
    typer.echo(
        f"{'id':>5}  {'referentie':<10}  {'soort':<15}  {'status':<14}  {'aangemaakt':<16}  "
        f"{'contactgebied':<23}  {'gemeente':<20}  afspraak"
    )
    for row in result.items:
        flags = " [mail mislukt]" if row.mail_failed else ""
        flags += " [gewist]" if row.erased else ""
        typer.echo(
            f"{row.id:>5}  {row.reference:<10}  {row.kind:<15}  {row.status:<14}  "
            f"{_local_or_dash(row.created_at, settings):<16}  {row.contact_area or '-':<23}  "
            f"{(row.municipality or '-')[:20]:<20}  {_local_or_dash(row.slot_start, settings)}{flags}"
        )
    last = (result.total + result.page_size - 1) // result.page_size or 1
    typer.echo(f"{result.total} leads; pagina {result.page} van {last}.", err=True)


@leads_app.command("show")
def leads_show(
    lead: Annotated[str, typer.Argument(help="Referentie (INT-XXXXXX) of id.")],
) -> None:
    """Toon één lead met alle gegevens, ook persoonsgegevens."""
    settings = _settings()
    with _expected_errors(settings), _engine(settings) as engine:
        _require_current_schema(engine)
        with session_scope(engine) as session:
            detail = get_lead(session, _lead_id(session, lead))
    assert detail is not None
    row = detail.row
    lines = [
        ("Referentie", row.reference),
        ("Id", str(row.id)),
        ("Soort", row.kind),
        ("Status", LABELS[LeadStatus(row.status)]),
        ("Aangemaakt", _local_or_dash(row.created_at, settings)),
        ("Contactgebied", row.contact_area),
        ("Gemeente", row.municipality),
        ("Gebied", row.area_name),
        ("Soort gebied", row.area_kind),
        ("Rol", row.role),
        ("Naam", row.name),
        ("Organisatie", row.organisation),
        ("E-mailadres", detail.email),
        ("Telefoonnummer", detail.phone_display or None),
        ("Omschrijving", detail.description),
        ("Afspraak", f"{_local_or_dash(row.slot_start, settings)} - {_local_or_dash(row.slot_end, settings)}"
         if row.slot_start else None),
        ("Procesbegeleider", row.facilitator_name),
        ("Toestemming", _local_or_dash(detail.consent_at, settings)),
        ("Gesprek", detail.conversation_id),
        ("Gewist", _local_or_dash(detail.erased_at, settings) if detail.erased_at else None),
        ("Volgende status", ", ".join(detail.allowed_statuses) or "geen (afgesloten)"),
    ]  # fmt: skip
    for label, value in lines:
        if value:
            typer.echo(f"{label + ':':<18}{value}")
    typer.echo("Geschiedenis:")
    for event in detail.events:
        change = f" {event.from_status or ''} -> {event.to_status}" if event.to_status else ""
        typer.echo(
            f"  {_local_or_dash(event.occurred_at, settings)}  {event.event}{change}  ({event.actor or '-'})"
        )
    typer.echo("Meldingen:")
    for mail in detail.deliveries:
        error = f", laatste fout {mail.last_error}" if mail.last_error else ""
        typer.echo(f"  {mail.kind:<22} {mail.status:<10} pogingen {mail.attempts}{error}")


@leads_app.command("export")
def leads_export(
    output: Annotated[
        Path | None, typer.Option("--uitvoer", help="CSV-bestand; standaard naar stdout.")
    ] = None,
    status: StatusOption = None,
    kind: KindOption = None,
    contact_area: AreaOption = None,
    area_kind: AreaKindOption = None,
    created_from: FromOption = None,
    created_to: ToOption = None,
    sort: SortOption = "created_at",
    ascending: AscOption = False,
) -> None:
    """Exporteer de (gefilterde) leads als CSV, met persoonsgegevens."""
    settings = _settings()
    query = _lead_query(
        status, kind, contact_area, area_kind, created_from, created_to, sort, ascending
    )
    with _expected_errors(settings), _engine(settings) as engine:
        _require_current_schema(engine)
        with session_scope(engine) as session:
            if output is None:
                for chunk in iter_leads_csv(session, query, settings=settings):
                    typer.echo(chunk, nl=False)
                return
            try:
                with output.open("w", encoding="utf-8", newline="") as handle:
                    for chunk in iter_leads_csv(session, query, settings=settings):
                        handle.write(chunk)
            except OSError as error:
                raise _fail(f"kan {output} niet schrijven ({error.strerror}).") from None
    typer.echo(f"Export geschreven naar {output}.", err=True)


@leads_app.command("status")
def leads_status(
    lead: Annotated[str, typer.Argument(help="Referentie (INT-XXXXXX) of id.")],
    status: Annotated[str, typer.Argument(help="Nieuwe status, bijv. in_behandeling.")],
    actor: Annotated[str, typer.Option("--door", help="Wie de wijziging doet.")] = "beheerder",
) -> None:
    """Zet een lead in een volgende status (volgens de vaste volgorde)."""
    settings = _settings()
    wanted = parse_status(status)
    if wanted is None:
        raise _fail(f"onbekende status {status}.")
    with _expected_errors(settings), _engine(settings) as engine:
        _require_current_schema(engine)
        with session_scope(engine) as session:
            outcome = change_status(
                session, _lead_id(session, lead), wanted, actor, settings=settings
            )
    if isinstance(outcome, TransitionRefused):
        allowed = ", ".join(outcome.allowed) or "geen"
        raise _fail(f"van {outcome.current} naar {outcome.wanted} mag niet; wel: {allowed}.")
    typer.echo(f"Status gewijzigd: {outcome.from_status} -> {outcome.to_status}.")  # type: ignore[union-attr]


@leads_app.command("erase")
def leads_erase(
    lead: Annotated[str, typer.Argument(help="Referentie (INT-XXXXXX) of id.")],
    confirm: Annotated[bool, typer.Option("--ja", help="Bevestig het wissen.")] = False,
    actor: Annotated[str, typer.Option("--door", help="Wie het verzoek uitvoert.")] = "beheerder",
) -> None:
    """Wis de persoonsgegevens van een lead (AVG-verzoek); een anonieme regel blijft."""
    if not confirm:
        raise _fail("wissen kan niet ongedaan worden; voeg --ja toe om te bevestigen.")
    settings = _settings()
    with _expected_errors(settings), _engine(settings) as engine:
        _require_current_schema(engine)
        with session_scope(engine) as session:
            outcome = erase_lead_personal_data(
                session, _lead_id(session, lead), actor, settings=settings
            )
            assert isinstance(outcome, Erased)
            # Before the commit, as in the staff API: if a store cannot be reached, nothing is
            # erased and the command can be repeated.
            purged = (
                _purge_conversations([outcome.conversation_id], settings)
                if outcome.conversation_id and not outcome.already
                else []
            )
    if outcome.already:
        typer.echo("Deze lead was al gewist.")
        return
    typer.echo("Persoonsgegevens gewist; een anonieme regel blijft bewaard.")
    _report_unpurged(purged)


@leads_app.command("purge")
def leads_purge() -> None:
    """Pas de bewaartermijn toe (PVO_LEAD_RETENTION_MONTHS, standaard 12 maanden)."""
    settings = _settings()
    with _expected_errors(settings), _engine(settings) as engine:
        _require_current_schema(engine)
        with session_scope(engine) as session:
            result = purge_expired(session, settings=settings)
            unpurged = _purge_conversations(result.conversation_ids, settings)
    typer.echo(
        f"Bewaartermijn {settings.lead_retention_months} maanden: {result.erased} leads gewist, "
        f"{result.drafts} verlopen concepten en {result.mails} oude meldingen verwijderd."
    )
    _report_unpurged(unpurged)


def _purge_conversations(conversation_ids: Iterable[str], settings: Settings) -> list[str]:
    """Remove erased leads' conversations from the configured stores; returns the ids that no
    configured store could take (in-memory tracker store: nothing outlives the engine)."""
    left = []
    for conversation_id in conversation_ids:
        if (
            retention.purge_conversation_everywhere(
                conversation_id, settings.tracker_db_url, settings.events_db_url
            )
            is None
        ):
            left.append(conversation_id)
    return left


def _report_unpurged(conversation_ids: list[str]) -> None:
    if conversation_ids:
        typer.echo(
            "Geen gespreksopslag ingesteld (TRACKER_DB_URL); verwijder deze gesprekken zelf:",
            err=True,
        )
        for conversation_id in conversation_ids:
            typer.echo(conversation_id, err=True)


def _stop_on_signals() -> threading.Event:
    """An event set by SIGTERM or SIGINT: honcho and Ctrl-C stop the loops cleanly."""
    stop = threading.Event()

    def handler(_signum: int, _frame: object) -> None:
        stop.set()

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, handler)
    return stop


def _report_line(report: DeliveryReport) -> str:
    return (
        f"Mail: {report.sent} verstuurd, {report.retried} later opnieuw, "
        f"{report.failed} mislukt, {report.dropped} vervallen."
    )


@mail_app.command("worker")
def mail_worker(
    once: Annotated[bool, typer.Option("--once", help="Verstuur wat klaarstaat en stop.")] = False,
) -> None:
    """Verstuur de meldingen uit de outbox (blijft draaien tot Ctrl-C)."""
    settings = _settings()
    where = f"{settings.smtp_host}:{settings.smtp_port}"
    with _expected_errors(settings), _engine(settings) as engine:
        _require_current_schema(engine)
        if once:
            report = run_worker(engine, settings=settings, once=True)
            typer.echo(_report_line(report))
            return
        typer.echo(f"Mailworker gestart (SMTP {where}); stoppen met Ctrl-C.", err=True)
        run_worker(
            engine,
            settings=settings,
            stop=_stop_on_signals(),
            on_report=lambda report: typer.echo(_report_line(report), err=True),
        )
        typer.echo("Mailworker gestopt.", err=True)


@mail_app.command("sink")
def mail_sink(
    host: Annotated[str | None, typer.Option("--host", help="Standaard PVO_SMTP_HOST.")] = None,
    port: Annotated[int | None, typer.Option("--port", help="Standaard PVO_SMTP_PORT.")] = None,
    directory: Annotated[
        Path | None, typer.Option("--map", help="Standaard PVO_MAIL_SINK_DIR (var/mail).")
    ] = None,
) -> None:
    """Lokale SMTP-server die elke mail als .eml-bestand bewaart (voor make run)."""
    settings = _settings()
    host = host or settings.smtp_host
    port = port or settings.smtp_port
    folder = directory or settings.mail_sink_dir
    shown = _shown_path(folder)

    def saved(path: Path) -> None:
        typer.echo(f"Mail opgeslagen: {_shown_path(path)}", err=True)

    try:
        controller = start_sink(folder, host, port, on_saved=saved)
    except (OSError, RuntimeError) as error:
        raise _fail(f"kan niet luisteren op {host}:{port} ({type(error).__name__}).") from None
    typer.echo(f"SMTP-sink luistert op {host}:{port}; mails komen in {shown}/", err=True)
    try:
        _stop_on_signals().wait()
    finally:
        controller.stop()
        typer.echo("SMTP-sink gestopt.", err=True)


def _shown_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


@mail_app.command("status")
def mail_status() -> None:
    """Toon hoeveel meldingen wachten, verstuurd of mislukt zijn (zonder inhoud)."""
    settings = _settings()
    with _expected_errors(settings), _engine(settings) as engine:
        _require_current_schema(engine)
        with session_scope(engine) as session:
            overview = mail_overview(session)
    counts = overview.counts
    typer.echo(
        f"Wachtend: {counts['pending']}, verstuurd: {counts['sent']}, "
        f"mislukt: {counts['failed']}, vervallen: {counts['cancelled']}."
    )
    if overview.oldest_due is not None:
        typer.echo(f"Eerstvolgende poging: {_local_or_dash(overview.oldest_due, settings)}.")
    for row in overview.failed:
        typer.echo(
            f"  mislukt: melding {row.id} ({row.kind}) voor {row.reference}, "
            f"{row.attempts} pogingen, laatste fout {row.last_error or '-'}"
        )


# --- staff accounts ----------------------------------------------------------------------

users_app = typer.Typer(
    help="Accounts van medewerkers voor de staff-API en het dashboard.", no_args_is_help=True
)
app.add_typer(users_app, name="users")

PasswordStdinOption = Annotated[
    bool,
    typer.Option(
        "--password-stdin",
        help="Lees het wachtwoord (min. 12 tekens) van stdin; anders wordt er een gemaakt en"
        " één keer getoond.",
        show_default=False,
    ),
]


def _password(from_stdin: bool) -> tuple[str, bool]:
    """(password, generated?)"""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n"), False
    return users.generate_password(), True


def _user_command(settings: Settings, action: Callable[[Session], users.StaffUser]) -> None:
    with _expected_errors(settings), _engine(settings) as engine:
        _require_current_schema(engine)
        try:
            with session_scope(engine) as session:
                action(session)
        except users.UserError as error:
            raise _fail(f"{error}.") from None


@users_app.command("add")
def users_add(
    username: Annotated[
        str, typer.Argument(help="Gebruikersnaam (kleine letters, cijfers, . _ -).")
    ],
    role: Annotated[UserRole, typer.Option("--role", help="admin of staff.")] = UserRole.STAFF,
    password_stdin: PasswordStdinOption = False,
) -> None:
    """Maak een account aan (wachtwoord als argon2-hash opgeslagen)."""
    settings = _settings()
    password, generated = _password(password_stdin)
    _user_command(
        settings,
        lambda session: users.add_user(session, username, password, role, settings=settings),
    )
    typer.echo(f"Account {users.normalize_username(username)} ({role.value}) aangemaakt.", err=True)
    if generated:
        typer.echo("Wachtwoord (wordt maar één keer getoond):", err=True)
        typer.echo(password)


@users_app.command("disable")
def users_disable(username: Annotated[str, typer.Argument(help="Gebruikersnaam.")]) -> None:
    """Zet een account uit; lopende sessies en tokens werken direct niet meer."""
    settings = _settings()
    _user_command(settings, lambda session: users.disable_user(session, username))
    typer.echo(f"Account {users.normalize_username(username)} uitgezet.")


@users_app.command("reset-password")
def users_reset_password(
    username: Annotated[str, typer.Argument(help="Gebruikersnaam.")],
    password_stdin: PasswordStdinOption = False,
) -> None:
    """Geef een account een nieuw wachtwoord (en zet het weer aan)."""
    settings = _settings()
    password, generated = _password(password_stdin)
    _user_command(
        settings,
        lambda session: users.reset_password(session, username, password, settings=settings),
    )
    typer.echo(f"Nieuw wachtwoord ingesteld voor {users.normalize_username(username)}.", err=True)
    if generated:
        typer.echo("Wachtwoord (wordt maar één keer getoond):", err=True)
        typer.echo(password)
