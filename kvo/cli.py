"""Command line for operators: ``python -m kvo ...``.

Expected problems (database unreachable, unknown reference, schema not yet
migrated, not a demo database) end with a one-line message and exit code 1,
never a traceback. Access codes are printed only by ``access-code rotate``,
once, to stdout.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Annotated

import typer
from alembic.util.exc import CommandError
from sqlalchemy import Engine, exc
from sqlalchemy.orm import Session

from kvo import db_purpose, lockout_admin, migrate, retention
from kvo.bench_data import generate_bench_data
from kvo.db import StoreUnavailable, make_engine, safe_url, session_scope
from kvo.demo_data import load_demo_data
from kvo.errors import InvalidReference, NotADemoDatabase, RealDataPresent, UnknownReference
from kvo.settings import Settings
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
    if settings.events_db_url:
        _purge_store(
            "Event broker",
            settings.events_db_url,
            days,
            lambda engine: (retention.purge_event_broker(engine, cutoff, purged), []),
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
