"""The Rasa engine as we run it: `python -m bot.engine` (engine environment, Python 3.10).

Rasa's own `rasa run` leaves too much open for a public website, so this starts the same server
programmatically with our rules:

- the HTTP API (trackers, model replacement, ...) is off unless RASA_ENABLE_API=true *and*
  RASA_API_TOKEN holds a real secret; a missing, short or placeholder token refuses to start;
- it binds PVO_ENGINE_HOST (127.0.0.1) and RASA_PORT (5005);
- CORS only for PVO_ALLOWED_ORIGINS;
- request bodies over 64 KB (PVO_MAX_BODY_BYTES) are refused by Sanic before they are read; this
  limit is the engine's only (the action server legitimately receives large trackers);
- it refuses to start without ACTION_SERVER_TOKEN or PVO_SESSION_SECRET, and when the tracker store
  Rasa ends up with is not our redacting one (Rasa silently falls back to in-memory when a
  configured store cannot be imported);
- a logging filter removes access codes from every log record;
- two of Rasa's hot spots run faster with the same results: the action server's answers are
  checked against Rasa's schema compiled once (bot/action_results.py), and the rule policy tries
  only the rules that can follow the last action (bot/rule_index.py).

The port opens only once the model is loaded: the launcher waits for it (the API is closed).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from functools import partial
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
DEFAULT_MODEL = REPO / "models" / "pvo-assistent.tar.gz"
EXIT_REFUSED = 2

logger = logging.getLogger(__name__)


class StartupRefused(RuntimeError):
    """A setting makes the engine unsafe to run; the message says which."""


class CodeRedactingFilter(logging.Filter):
    """Removes access codes from log messages and their arguments before any handler sees them."""

    def filter(self, record: logging.LogRecord) -> bool:
        from bot.redaction import contains_code, redact_codes

        try:
            message = record.getMessage()
        except Exception:
            return True
        if contains_code(message):
            record.msg = redact_codes(message)
            record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            # A traceback may quote tracker content; keep only the exception type.
            error = record.exc_info[1]
            if contains_code(str(error)):
                record.msg = f"{record.getMessage()} ({type(error).__name__})"
                record.args = None
                record.exc_info = None
                record.exc_text = None
        return True


def install_log_filter() -> None:
    """Attach the filter to every handler there is now (Rasa sets its handlers up at start)."""
    code_filter = CodeRedactingFilter()
    loggers = [logging.getLogger(), *logging.Logger.manager.loggerDict.values()]
    for item in loggers:
        for handler in getattr(item, "handlers", []):
            if not any(isinstance(f, CodeRedactingFilter) for f in handler.filters):
                handler.addFilter(code_filter)
    root = logging.getLogger()
    if not any(isinstance(f, CodeRedactingFilter) for f in root.filters):
        root.addFilter(code_filter)


def configure_logging() -> None:
    """Logging as `rasa run` sets it up, at INFO: Rasa's debug lines carry texts and slot values."""
    import rasa.utils.io
    from rasa.utils import log_utils
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.tensorflow import environment as tf_environment

    configure_logging_and_warnings(logging.INFO, warn_only_once=True, filter_repeated_logs=True)
    tf_environment.setup_tf_environment()
    rasa.utils.io.configure_colored_logging(logging.INFO)
    log_utils.configure_structlog(logging.INFO)
    install_log_filter()


def check_settings(settings: Any) -> None:
    from bot.engine_settings import SettingError, check_secret

    try:
        check_secret("ACTION_SERVER_TOKEN", settings.action_server_token)
        check_secret("PVO_SESSION_SECRET", settings.session_secret)
        if settings.enable_api:
            check_secret("RASA_API_TOKEN", settings.api_token)
    except SettingError as error:
        raise StartupRefused(str(error)) from None


async def check_agent(app: Any, _loop: Any) -> None:
    """Stop before serving without a model, or when the agent does not use RedactingTrackerStore."""
    from bot.tracker_store import find_redacting_store

    agent = getattr(app.ctx, "agent", None)
    if agent is None or not agent.is_ready():
        raise StartupRefused("the model could not be loaded (see the log above)")
    if find_redacting_store(getattr(agent, "tracker_store", None)) is None:
        raise StartupRefused(
            "the tracker store is not bot.tracker_store.RedactingTrackerStore (check the"
            " tracker_store section of the endpoints file and that bot/ can be imported);"
            " access codes would be stored unredacted"
        )
    install_log_filter()


def build_app(model: Path, endpoints_file: Path, credentials_file: Path) -> tuple[Any, Any]:
    """The configured Sanic app and the settings; raises StartupRefused."""
    from rasa.core import run as rasa_run
    from rasa.core.utils import AvailableEndpoints

    from bot import action_results, rule_index
    from bot.engine_settings import EngineSettings, SettingError

    action_results.install()
    rule_index.install()
    try:
        settings = EngineSettings.from_env()
    except SettingError as error:
        raise StartupRefused(str(error)) from None
    check_settings(settings)
    if not model.exists():
        raise StartupRefused(f"no trained model at {model}: run `make train`")
    endpoints = AvailableEndpoints.read_endpoints(str(endpoints_file))
    if endpoints.tracker_store is None:
        raise StartupRefused(
            f"{endpoints_file} configures no tracker_store; use"
            " bot.tracker_store.RedactingTrackerStore"
        )
    input_channels = rasa_run.create_http_input_channels(None, str(credentials_file))
    app = rasa_run.configure_app(
        input_channels,
        cors=list(settings.allowed_origins),
        auth_token=settings.api_token if settings.enable_api else None,
        enable_api=settings.enable_api,
        port=settings.port,
        endpoints=endpoints,
    )
    app.config.REQUEST_MAX_SIZE = settings.max_body_bytes
    proxies = os.environ.get("PVO_PROXIES_COUNT", "").strip()
    if proxies.isdigit() and int(proxies) > 0:
        app.config.PROXIES_COUNT = int(proxies)
    app.register_listener(
        partial(rasa_run.load_agent_on_start, str(model), endpoints, None),
        "before_server_start",
    )
    app.register_listener(check_agent, "before_server_start")
    app.register_listener(rasa_run.close_resources, "after_server_stop")
    return app, settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--endpoints", type=Path, default=REPO / "endpoints.yml")
    parser.add_argument("--credentials", type=Path, default=REPO / "credentials.yml")
    args = parser.parse_args(argv)

    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    # endpoints.yml points at the action server on this port.
    os.environ.setdefault("PVO_ACTIONS_PORT", "5055")
    configure_logging()
    try:
        app, settings = build_app(args.model, args.endpoints, args.credentials)
        api = "on (token required)" if settings.enable_api else "off"
        logger.info(
            "Starting the engine on http://%s:%d (HTTP API %s)", settings.host, settings.port, api
        )
        app.run(host=settings.host, port=settings.port, workers=1, access_log=False)
    except StartupRefused as error:
        print(f"The engine does not start: {error}", file=sys.stderr)
        return EXIT_REFUSED
    return 0


if __name__ == "__main__":
    sys.exit(main())
