"""The public web part of the API server: the demo page `/` and the chat widget under `/widget/`.

Only files on a fixed list are served (no path from the request reaches the file system). The
widget script is sent with its visitor texts in front of it, so those texts live in one JSON file
under templates/web/ that content editors change without touching code.
"""

from __future__ import annotations

import json
import re
import secrets
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from kvo.settings import REPO_ROOT, get_settings

STATIC_DIR = Path(__file__).resolve().parent / "static" / "widget"
TEMPLATES_DIR = REPO_ROOT / "templates"
STRINGS_FILE = TEMPLATES_DIR / "web" / "widget_strings.nl.json"
WIDGET_SCRIPT = STATIC_DIR / "pvo-chat.js"

# Public file name -> (path, media type). The vendored socket.io client is copied from
# node_modules by `make widget` (it is not committed).
ASSETS: dict[str, tuple[Path, str]] = {
    "pvo-chat.css": (STATIC_DIR / "pvo-chat.css", "text/css; charset=utf-8"),
    "vendor/socket.io.min.js": (
        STATIC_DIR / "vendor" / "socket.io.min.js",
        "text/javascript; charset=utf-8",
    ),
    "vendor/socket.io.LICENSE": (STATIC_DIR / "vendor" / "socket.io.LICENSE", "text/plain"),
}
# Assets change only with a deployment; an hour keeps repeat visits fast and updates prompt.
CACHE_HEADERS = {"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"}

router = APIRouter(include_in_schema=False)


@lru_cache(maxsize=1)
def _templates() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html"]),
        auto_reload=False,
    )


def widget_strings() -> dict[str, str]:
    """The visitor texts of the widget (templates/web/widget_strings.nl.json)."""
    data = json.loads(STRINGS_FILE.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise ValueError(f"{STRINGS_FILE} must map names to texts")
    return data


def widget_script() -> str:
    """The widget script with its texts in front; `</` is escaped so the JSON stays inert."""
    strings = json.dumps(widget_strings(), ensure_ascii=False).replace("</", "<\\/")
    return f"window.PVOChatStrings = {strings};\n" + WIDGET_SCRIPT.read_text(encoding="utf-8")


def _socket_origins(server_url: str) -> str:
    """The chat server as CSP connect-src sources: its http(s) origin and the ws(s) one."""
    parts = urlsplit(server_url)
    # Host and port only: nothing that could end the CSP directive.
    if parts.scheme not in ("http", "https") or not re.fullmatch(
        r"[A-Za-z0-9.\-:\[\]]+", parts.netloc
    ):
        return ""
    websocket = "wss" if parts.scheme == "https" else "ws"
    return f"{parts.scheme}://{parts.netloc} {websocket}://{parts.netloc}"


def content_security_policy(nonce: str, chat_server_url: str = "") -> str:
    """Our own pages run only our scripts (plus the one inline config with its nonce)."""
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self' 'nonce-{nonce}'",
            # The page's own <style> block; the widget's CSS is a same-origin file.
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data:",
            f"connect-src 'self' {_socket_origins(chat_server_url)}".rstrip(),
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def _html(name: str, chat_server_url: str = "", **context: object) -> HTMLResponse:
    nonce = secrets.token_urlsafe(16)
    html = _templates().get_template(name).render(csp_nonce=nonce, **context)
    headers = {
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": content_security_policy(nonce, chat_server_url),
    }
    return HTMLResponse(html, headers=headers)


@router.get("/", response_class=HTMLResponse)
def demo_page(request: Request) -> HTMLResponse:
    settings = get_settings()
    chat_config = {
        "server": settings.chat_server_url,
        # POST /feedback belongs to the feedback router of the same app.
        "feedbackUrl": f"{request.base_url}feedback",
        "privacyUrl": str(request.url_for("privacy_page")),
        "contactUrl": settings.contact_url,
    }
    return _html(
        "web/index.html", chat_server_url=settings.chat_server_url, chat_config=chat_config
    )


@router.get("/widget/privacy", response_class=HTMLResponse, name="privacy_page")
def privacy_page() -> HTMLResponse:
    settings = get_settings()
    return _html(
        "web/privacy.html",
        conversation_retention_days=settings.conversation_retention_days,
        lead_retention_months=settings.lead_retention_months,
        contact_url=settings.contact_url,
    )


@router.get("/widget/pvo-chat.js")
def widget_js() -> Response:
    return Response(
        widget_script(), media_type="text/javascript; charset=utf-8", headers=CACHE_HEADERS
    )


@router.get("/widget/{name:path}")
def widget_asset(name: str) -> FileResponse:
    asset = ASSETS.get(name)
    if asset is None or not asset[0].is_file():
        raise HTTPException(status_code=404, detail="Niet gevonden.")
    path, media_type = asset
    return FileResponse(path, media_type=media_type, headers=CACHE_HEADERS)
