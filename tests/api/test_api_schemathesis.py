"""Property-based run of schemathesis over the OpenAPI schema (logged in as an admin, so every
operation is reached): no input makes the API answer with a server error. Examples per
operation are bounded so that the run stays well under a minute."""

from __future__ import annotations

import time
from contextlib import ExitStack

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from tests.api.support import Api, add_callback, add_facilitator, add_intake, http_ok_server

EXAMPLES_PER_OPERATION = 8
TIME_BUDGET_SECONDS = 60


def test_no_input_causes_a_server_error(api: Api) -> None:
    with ExitStack() as stack:
        _run(api, stack)


def _run(api: Api, stack: ExitStack) -> None:
    with api.session_factory() as db:  # type: ignore[operator]
        add_facilitator(db)
        add_intake(db, api.kvo_settings, "conv-a")
        add_callback(db, api.kvo_settings, "conv-c")
        db.commit()
    app = api.client.app
    # /ready answers 503 when the engine or action server is down: give it live stand-ins.
    stand_in = stack.enter_context(http_ok_server())
    app.state.api_settings = app.state.api_settings.model_copy(  # type: ignore[attr-defined]
        update={"engine_url": stand_in, "actions_url": stand_in}
    )
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, headers=api.admin)
    started = time.monotonic()
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        def run(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=dict(api.admin), checks=[not_a_server_error])

        run()
    assert operations >= 25
    assert time.monotonic() - started < TIME_BUDGET_SECONDS
