"""Walks every route of the app: anonymous requests get no 2xx except on the public routes."""

from __future__ import annotations

import re

from fastapi.routing import iter_route_contexts
from starlette.routing import Mount

from tests.api.support import Api

# The list of public routes, exactly.
PUBLIC = {("GET", "/"), ("POST", "/auth/token"), ("GET", "/health"), ("POST", "/feedback")}
PUBLIC_PREFIXES = ("/widget/",)
SAMPLE_PARAMS = {"reference": "KVO-2024-0031", "key": "ab" * 8, "username": "sam"}


def _concrete(path: str) -> str:
    return re.sub(r"{(\w+)(:\w+)?}", lambda m: SAMPLE_PARAMS.get(m.group(1), "1"), path)


def _routes(api: Api) -> list[tuple[str, str]]:
    found = []
    for context in iter_route_contexts(api.client.app.routes):  # type: ignore[attr-defined]
        route = context.original_route
        if isinstance(route, Mount):
            found.append(("GET", f"{context.path}/index.html"))
            continue
        for method in sorted(getattr(route, "methods", None) or {"GET"}):
            if method != "HEAD":
                found.append((method, _concrete(context.path or "")))
    return found


def _is_public(method: str, path: str) -> bool:
    return (method, path) in PUBLIC or path.startswith(PUBLIC_PREFIXES)


def test_anonymous_requests_get_no_success_outside_the_public_routes(api: Api) -> None:
    api.client.cookies.clear()
    routes = _routes(api)
    assert len(routes) > 40
    offenders = []
    for method, path in routes:
        if _is_public(method, path):
            continue
        response = api.client.request(method, path, follow_redirects=False)
        if 200 <= response.status_code < 300:
            offenders.append(f"{method} {path} -> {response.status_code}")
        elif response.status_code == 303:
            assert response.headers["location"] == "/dashboard/login", (method, path)
        else:
            assert response.status_code in (401, 403), (method, path, response.status_code)
    assert offenders == []


def test_staff_token_opens_what_is_not_admin_only(api: Api) -> None:
    """The other side of the walk: the routes are reachable with a staff login."""
    for path in ("/leads", "/trajectories", "/facilitators", "/lockouts", "/auth/me"):
        assert api.client.get(path, headers=api.staff).status_code == 200, path
    for path in ("/users", "/audit", "/leads/export.csv"):
        assert api.client.get(path, headers=api.staff).status_code == 403, path
        assert api.client.get(path, headers=api.admin).status_code == 200, path
