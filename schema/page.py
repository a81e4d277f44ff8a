"""goalgraph's own web page at ``/``: the goal tree, scorecards, trends, the stage
switch, the loop and packs, for the people who would rather look than read JSON.

The page is static files in the package (``static/page``), plain ES modules with no
build step, so installing goalgraph needs no node toolchain and nothing loads from a
CDN. It talks only to ``/graphql`` (queries, mutations, and the ``goalProgress`` and
``alerts`` subscriptions over graphql-transport-ws), which makes it the API's reference
client too: every document it sends lives in ``queries.js`` and is validated against the
schema by the suite. Its policy allows scripts, styles and connections to this origin
alone, so an injected string can neither run nor call out.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

# resolve(): an editable install may link this module from elsewhere; serve the real files.
PAGE_DIR = Path(__file__).resolve().parent / "static" / "page"
PAGE_URL = "/static/page"

#: Same origin only: no inline script, no CDN, no frame. ``connect-src 'self'`` covers
#: the WebSocket back to this host too (CSP Level 3), and no other host.
POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)

#: Revalidated on each load, so a new version of goalgraph reaches browsers at once.
HEADERS = {"content-security-policy": POLICY, "cache-control": "no-cache"}


@cache
def _index() -> bytes:
    return (PAGE_DIR / "index.html").read_bytes()


async def index(_: Request) -> Response:
    """The page's one HTML document; routing is in the fragment (``#/tree``)."""
    return Response(_index(), media_type="text/html; charset=utf-8", headers=HEADERS)


class _PageFiles(StaticFiles):
    """The page's scripts and styles, under the same policy and revalidation."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers.update(HEADERS)
        return response


def page_routes() -> list[BaseRoute]:
    """``/`` and the page's files."""
    return [
        Route("/", index, methods=["GET"]),
        Mount(PAGE_URL, app=_PageFiles(directory=PAGE_DIR), name="page-static"),
    ]
