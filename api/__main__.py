"""``python -m api``: serve the app with uvicorn on PVO_API_HOST:PVO_API_PORT (127.0.0.1:8000)."""

from __future__ import annotations

import sys

import uvicorn
from pydantic import ValidationError

from api.settings import get_api_settings


def main() -> int:
    try:
        settings = get_api_settings()
    except ValidationError as error:
        # Field names only: values may be secrets.
        fields = ", ".join(str(e["loc"][0]) for e in error.errors() if e.get("loc")) or "secret"
        print(f"Fout in de API-instellingen (PVO_API_*): {fields}", file=sys.stderr)
        return 1
    from api.app import create_app

    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        proxy_headers=False,
        server_header=False,
        log_level="info",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
