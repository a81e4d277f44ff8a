"""A generic adapter for systems that answer readings as JSON over HTTP.

Most point-of-sale, MES and HR systems can export a day range as JSON; a pack
subclasses this with its own ``name``, ``title`` and ``metrics`` and is ready.
The endpoint gets ``?since=YYYY-MM-DD&until=YYYY-MM-DD`` and answers a list of
``{"metric": ..., "subject": ..., "period": "YYYY-MM-DD", "value": ...}``.
"""

from __future__ import annotations

from datetime import date
from typing import Any, ClassVar

import aiohttp

from .contract import DataAdapter, Reading


class AdapterError(Exception):
    """The source answered something that is not a valid list of readings."""


class HttpJsonAdapter(DataAdapter):
    """Fetches readings from ``config["url"]``; configure ``timeout`` in seconds."""

    name: ClassVar[str] = "http_json"
    title: ClassVar[dict[str, str]] = {"zh": "HTTP JSON 数据源", "en": "HTTP JSON source"}
    metrics: ClassVar[dict[str, str]] = {}

    def __init__(
        self,
        *,
        url: str,
        session: aiohttp.ClientSession,
        timeout: float = 30.0,
        headers: dict[str, str] | None = None,
        **config: Any,
    ) -> None:
        super().__init__(url=url, timeout=timeout, **config)
        self.url = url
        self.session = session
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self.headers = headers or {}

    async def fetch(self, since: date, until: date) -> list[Reading]:
        params = {"since": since.isoformat(), "until": until.isoformat()}
        async with self.session.get(
            self.url, params=params, timeout=self.timeout, headers=self.headers
        ) as response:
            response.raise_for_status()
            payload = await response.json(content_type=None)
        return self.parse(payload)

    def parse(self, payload: object) -> list[Reading]:
        """Readings from a decoded payload; unknown metrics are an error, not dropped."""
        if not isinstance(payload, list):
            raise AdapterError(f"{self.name}: expected a JSON list, got {type(payload).__name__}")
        readings = []
        for i, item in enumerate(payload):
            try:
                metric = str(item["metric"])
                if self.metrics and metric not in self.metrics:
                    raise AdapterError(f"{self.name}: item {i} has unknown metric {metric!r}")
                readings.append(
                    Reading(
                        metric,
                        str(item["subject"]),
                        date.fromisoformat(item["period"]),
                        float(item["value"]),
                    )
                )
            except (KeyError, TypeError, ValueError) as exc:
                raise AdapterError(f"{self.name}: item {i} is not a reading: {exc}") from exc
        return readings
