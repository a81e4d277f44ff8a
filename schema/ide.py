"""GraphiQL served by goalgraph itself, with no CDN.

strawberry's stock page loads React and GraphiQL from a CDN, which fails offline and
is slow or blocked in mainland China, where many of goalgraph's users work. The same
files are vendored under ``static/graphiql`` (see the README there) and the page
points at them.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

# resolve(): an editable install may link this module from elsewhere; serve the real files.
STATIC_DIR = Path(__file__).resolve().parent / "static" / "graphiql"
STATIC_URL = "/static/graphiql"


@cache
def graphiql_html(static_url: str = STATIC_URL) -> str:
    """The GraphiQL page with every asset under ``static_url``."""
    template = (STATIC_DIR / "graphiql.html").read_text(encoding="utf-8")
    return template.replace("{{STATIC}}", static_url.rstrip("/"))


def mount_static() -> Mount:
    """The route serving the vendored GraphiQL files."""
    return Mount(STATIC_URL, app=StaticFiles(directory=STATIC_DIR), name="graphiql-static")
