"""A small point-of-sale export API for the freshmart demo, in the retail POS format.

``goalgraph demo-pos`` serves it on 127.0.0.1:8100 (``make demo`` starts it next to the
server). ``goalgraph demo`` binds freshmart's store KPIs to it through the ``retail.pos``
adapter, every 15 minutes, so a running goalgraph pulls each store's figures for the
days since the demo was seeded and the KPIs, scores and trees move with them.

``GET /api/sales?since=YYYY-MM-DD&until=YYYY-MM-DD&page=1&page_size=500`` answers
``{"items": [{"store_code", "date", "sales", "visitors", "sales_per_sqm",
"wait_minutes"}, ...], "page": 1}``, one row per store and day, the same figures for
the same store and day on every call.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from aiohttp import web

from .demo import LAGGING, REGIONS

PORT = 8100
#: store code → quarterly sales target (CNY)
STORES = {code: target for _, _, _, stores in REGIONS for _, _, code, target in stores}


def row(store: str, day: date) -> dict[str, Any]:
    """One store-day, the same on every call (a seeded generator per store and day)."""
    seed = int.from_bytes(hashlib.sha256(f"{store}:{day}".encode()).digest()[:8], "big")
    rng = random.Random(seed)
    lag = 0.74 if store in LAGGING else 1.02
    weekend = 1.18 if day.weekday() >= 5 else 0.93
    daily_sales = round(STORES[store] / 91, -2)
    return {
        "store_code": store,
        "date": day.isoformat(),
        "sales": round(daily_sales * lag * weekend * rng.gauss(1.0, 0.06), 2),
        "visitors": round(1200 * lag * weekend * rng.gauss(1.0, 0.06)),
        "sales_per_sqm": round(120 * lag * weekend * rng.gauss(1.0, 0.06), 1),
        "wait_minutes": round((4.6 if store in LAGGING else 2.9) * weekend * rng.gauss(1, 0.1), 2),
    }


def pos_app(today: Callable[[], date] = date.today) -> web.Application:
    """The API; days after ``today()`` have no figures yet."""

    async def sales(request: web.Request) -> web.Response:
        try:
            since = date.fromisoformat(request.query["since"])
            until = min(date.fromisoformat(request.query["until"]), today())
            page = max(1, int(request.query.get("page", "1")))
            size = max(1, min(int(request.query.get("page_size", "500")), 5000))
        except (KeyError, ValueError) as exc:
            raise web.HTTPBadRequest(text=f"bad query: {exc}") from exc
        rows = [
            row(store, since + timedelta(days=offset))
            for offset in range((until - since).days + 1)
            for store in STORES
        ]
        return web.json_response({"items": rows[(page - 1) * size : page * size], "page": page})

    app = web.Application()
    app.router.add_get("/api/sales", sales)
    return app
