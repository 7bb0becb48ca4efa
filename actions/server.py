"""The action server: ``python -m actions.server`` (rasa-sdk's app, locked down).

Differences from ``python -m rasa_sdk``:

- ``/webhook`` and ``/actions`` answer only requests carrying ``Authorization: Bearer
  <ACTION_SERVER_TOKEN>`` (compared in constant time); ``/health`` stays open. Without a token
  of at least 32 characters the server does not start.
- It binds ``PVO_ACTIONS_HOST`` (127.0.0.1) and ``PVO_ACTIONS_PORT`` (5055), one Sanic worker,
  no CORS (only the engine calls it, never a browser).
- Errors get a generic JSON body. rasa-sdk's own handler answers with the whole request, i.e.
  the tracker with everything the visitor typed, and Rasa then logs that answer. The log line
  names the exception type, where it happened and the action: no request content.
- The warning that Rasa 3.6 and rasa-sdk 3.21 differ in version is silenced, and only that one:
  the combination is deliberate (see requirements/app.in).
"""

from __future__ import annotations

import argparse
import hmac
import json
import logging
import sys
import warnings
from typing import Any

from pydantic import ValidationError
from rasa_sdk.constants import DEFAULT_KEEP_ALIVE_TIMEOUT
from rasa_sdk.endpoint import create_app
from rasa_sdk.executor import ActionExecutor
from sanic import Sanic, response
from sanic.exceptions import SanicException
from sanic.handlers import ErrorHandler
from sanic.request import Request
from sanic.response import HTTPResponse

from actions.errors import describe_error
from kvo.settings import Settings

logger = logging.getLogger(__name__)

ACTIONS_PACKAGE = "actions"
MIN_TOKEN_LENGTH = 32
OPEN_PATHS = frozenset({"/health"})
# rasa_sdk.utils.check_version_compatibility, for a Rasa that differs in major.minor.
VERSION_WARNING = r"Your versions of rasa and rasa_sdk might not be compatible"
_GENERIC_ERRORS = {
    400: "bad request",
    401: "unauthorized",
    404: "not found",
    405: "method not allowed",
    413: "request too large",
    449: "domain missing",
}


class StartupRefused(RuntimeError):
    """A setting makes the server unsafe to start; the message says which (in Dutch)."""


def silence_version_warning() -> None:
    """Ignore exactly rasa-sdk's rasa/rasa_sdk version-mismatch warning, nothing else."""
    warnings.filterwarnings(
        "ignore", message=VERSION_WARNING, category=UserWarning, module=r"rasa_sdk\.utils$"
    )


def check_token(token: str) -> str:
    """The token, or StartupRefused when it is missing or too short to be a secret."""
    token = token.strip()
    if not token:
        raise StartupRefused(
            "ACTION_SERVER_TOKEN is niet gezet; de action server start niet zonder geheim."
            f" Kies een willekeurige waarde van minstens {MIN_TOKEN_LENGTH} tekens, bijv. met"
            " `python -c 'import secrets; print(secrets.token_urlsafe(32))'`."
        )
    if len(token) < MIN_TOKEN_LENGTH:
        raise StartupRefused(
            f"ACTION_SERVER_TOKEN is te kort ({len(token)} tekens); gebruik minstens"
            f" {MIN_TOKEN_LENGTH} willekeurige tekens."
        )
    return token


def _error_body(status: int) -> HTTPResponse:
    return response.json({"error": _GENERIC_ERRORS.get(status, "internal error")}, status=status)


def _action_name(request: Request, executor: ActionExecutor) -> str:
    """The requested action's name if it is one of ours (never echo arbitrary input)."""
    try:
        name = (request.json or {}).get("next_action")
    except Exception:  # unreadable body: nothing to name
        return "-"
    return name if isinstance(name, str) and name in executor.actions else "-"


def _install_auth(app: Sanic, token: str) -> None:
    expected = token.encode("utf-8")

    async def require_token(request: Request) -> HTTPResponse | None:
        if request.path in OPEN_PATHS:
            return None
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        # compare_digest on bytes: constant time, and no TypeError on non-ASCII input.
        if scheme.lower() == "bearer" and hmac.compare_digest(
            given.strip().encode("utf-8"), expected
        ):
            return None
        reply = _error_body(401)
        reply.headers["WWW-Authenticate"] = "Bearer"
        return reply

    # Before everything else, including rasa-sdk's CORS middleware that answers OPTIONS itself.
    app.on_request(require_token, priority=1000)


def _install_error_handling(app: Sanic, executor: ActionExecutor) -> None:
    handler = ErrorHandler()

    def generic_error(request: Request, exception: Exception) -> HTTPResponse:
        if isinstance(exception, SanicException) and exception.status_code < 500:
            return _error_body(exception.status_code)
        logger.error(
            "action server error: %s (action %s)",
            describe_error(exception),
            _action_name(request, executor),
        )
        return _error_body(500)

    handler.add(Exception, generic_error)
    # Replaces rasa-sdk's handler (which answers with the request body) as a whole.
    app.error_handler = handler

    async def no_echo(request: Request, reply: HTTPResponse) -> None:
        # rasa-sdk answers an unknown action (404) or a missing domain (449) with the requested
        # name; keep the name only when it is one of ours. 400 (a form rejecting a slot) keeps
        # its body: Rasa reads action_name and error from it, both fixed by rasa-sdk.
        if reply.status not in (404, 449) or request.path != "/webhook":
            return
        body: dict[str, Any] = {"error": _GENERIC_ERRORS[reply.status]}
        name = _action_name(request, executor)
        if name != "-":
            body["action_name"] = name
        reply.body = json.dumps(body).encode("utf-8")
        reply.headers["content-length"] = str(len(reply.body))

    app.on_response(no_echo)


def build_app(settings: Settings, executor: ActionExecutor | None = None) -> Sanic:
    """The rasa-sdk app with our actions, auth and error handling (raises StartupRefused)."""
    token = check_token(settings.action_server_token.get_secret_value())
    if executor is None:
        executor = ActionExecutor()
        executor.register_package(ACTIONS_PACKAGE)
    app = create_app(executor, cors_origins=None)
    app.config.KEEP_ALIVE_TIMEOUT = DEFAULT_KEEP_ALIVE_TIMEOUT
    _install_auth(app, token)
    _install_error_handling(app, executor)
    return app


class _NoExceptionText(logging.Filter):
    """rasa-sdk logs some exceptions as the message itself, e.g. ``No registered action found
    for name '<whatever was posted>'``; keep only the exception's type."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, BaseException):
            record.msg = f"{type(record.msg).__name__} (details withheld)"
            record.args = ()
        return True


def _configure_logging() -> None:
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # Warnings (after the filter above) become log lines like everything else.
    logging.captureWarnings(True)
    logging.getLogger("rasa_sdk.endpoint").addFilter(_NoExceptionText())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m actions.server",
        description="Action server of the PVO-assistent. Settings come from the environment:"
        " ACTION_SERVER_TOKEN (required), PVO_ACTIONS_HOST, PVO_ACTIONS_PORT.",
    )
    parser.parse_args(argv)
    silence_version_warning()
    try:
        settings = Settings()
        check_token(settings.action_server_token.get_secret_value())
    except StartupRefused as refused:
        print(f"Fout: {refused}", file=sys.stderr)
        return 1
    except ValidationError as error:
        fields = ", ".join(str(e["loc"][0]) for e in error.errors() if e.get("loc"))
        print(
            f"Fout: ongeldige instelling ({fields}); de action server start niet.", file=sys.stderr
        )
        return 1
    _configure_logging()
    executor = ActionExecutor()
    executor.register_package(ACTIONS_PACKAGE)
    app = build_app(settings, executor)
    logger.info(
        "action server listening on %s:%d (%d actions)",
        settings.actions_host,
        settings.actions_port,
        len(executor.actions),
    )
    app.run(
        host=settings.actions_host,
        port=settings.actions_port,
        single_process=True,
        access_log=False,
        motd=False,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
