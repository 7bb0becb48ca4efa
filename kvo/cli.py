"""Command line for operators: ``python -m kvo ...``.

Expected problems (database unreachable, unknown reference, schema not yet
migrated) end with a one-line message and exit code 1, never a traceback.
Access codes are printed only by ``access-code rotate``, once, to stdout.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from alembic.util.exc import CommandError
from sqlalchemy import Engine, exc

from kvo import migrate
from kvo.bench_data import generate_bench_data
from kvo.db import StoreUnavailable, make_engine, safe_url, session_scope
from kvo.demo_data import load_demo_data
from kvo.errors import InvalidReference, UnknownReference
from kvo.settings import Settings
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
app.add_typer(db_app, name="db")
app.add_typer(demo_app, name="demo")
app.add_typer(code_app, name="access-code")

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
    revision: Annotated[str, typer.Argument(help="Doelrevisie, bijv. -1 of base.")] = "-1",
) -> None:
    """Draai migraties terug (standaard één stap)."""
    settings = _settings()
    with _expected_errors(settings):
        migrate.downgrade(settings.database_url, revision)
    typer.echo(f"Schema teruggezet naar {revision} ({safe_url(settings.database_url)}).")


@db_app.command("current")
def db_current() -> None:
    """Toon de huidige schemarevisie."""
    settings = _settings()
    with _expected_errors(settings), _engine(settings) as engine:
        current = migrate.current_revision(engine)
    typer.echo(f"Huidige revisie: {current or 'geen'} (nieuwste: {migrate.head_revision()}).")


@demo_app.command("load")
def demo_load() -> None:
    """Laad de demotrajecten (idempotent: nogmaals draaien verandert niets)."""
    settings = _settings()
    with _expected_errors(settings), _engine(settings) as engine:
        _require_current_schema(engine)
        with session_scope(engine) as session:
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
) -> None:
    """Vul de database met synthetische trajecten (referenties vanaf KVO-2060-0001)."""
    settings = _settings()

    def progress(done: int, total: int) -> None:
        typer.echo(f"  {done}/{total}", err=True)

    with _expected_errors(settings), _engine(settings) as engine:
        _require_current_schema(engine)
        with session_scope(engine) as session:
            added = generate_bench_data(session, count, settings=settings, progress=progress)
    typer.echo(f"{added} benchmarktrajecten toegevoegd (zie kvo/bench_data.py voor de code).")
