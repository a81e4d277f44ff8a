"""Pulling readings from any system that answers JSON over HTTP.

Point-of-sale, MES, HR and analytics systems mostly export a day range as JSON, paged.
``HttpJsonAdapter`` reads such an API window by window (``since``/``until``), page by
page (page numbers or cursor tokens), with bearer or API-key auth, a timeout per request,
and retries with exponential backoff and jitter on 429, 5xx, broken connections,
timeouts and truncated or malformed bodies (honouring ``Retry-After``), through
``stamina``. Its cursor is the window and page to resume from, so a stopped sync
goes on where it stopped; the last days are read again on the next run
(``overlap_days``), as sources correct recent figures.

A pack subclasses it with its own ``name``, ``title``, ``metrics`` and a ``Config``
whose defaults fit its system, so a consultant only gives the endpoint and credentials.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, date, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar, Literal, cast

import aiohttp
import stamina
from pydantic import Field, create_model, field_validator

from .contract import (
    AdapterConfig,
    AdapterError,
    Batch,
    Cursor,
    DataAdapter,
    Reading,
    Rejection,
    reading_from,
)


class HttpJsonConfig(AdapterConfig):
    """Where the API is, how it pages, and which fields hold what."""

    url: str
    auth: Literal["none", "bearer", "api_key"] = "none"
    token: str | None = Field(default=None, description="Bearer token or API key (secret).")
    api_key_header: str = "X-API-Key"
    paging: Literal["none", "page", "cursor"] = "page"
    page_param: str = "page"
    size_param: str = "page_size"
    page_size: int = Field(default=500, ge=1, le=10_000)
    first_page: int = 1
    cursor_param: str = "cursor"
    next_cursor_field: str = "next_cursor"
    #: Where the rows are in an object answer (None: the answer is the list).
    items_field: str | None = "items"
    #: Query parameters of the day window (since_param None: no window, read everything).
    since_param: str | None = "since"
    until_param: str = "until"
    window_days: int = Field(default=31, ge=1, le=366)
    start: date | None = Field(default=None, description="First day of the first sync.")
    lookback_days: int = Field(default=90, ge=0, description="Without start: days back.")
    overlap_days: int = Field(default=2, ge=0, description="Recent days read again next run.")
    subject_field: str = "subject"
    period_field: str = "period"
    metric_field: str = "metric"
    value_field: str = "value"
    #: Rows with one column per measure: column → metric (one reading per column).
    values: dict[str, str] = Field(default_factory=dict)
    timeout: float = Field(default=30.0, gt=0, le=600)
    attempts: int = Field(default=6, ge=1, le=20)
    max_wait: float = Field(default=60.0, ge=0, le=3600)

    @field_validator("url")
    @classmethod
    def _http(cls, url: str) -> str:
        if not url.startswith(("http://", "https://")):
            raise ValueError("url must start with http:// or https://")
        return url


def preset(
    name: str, *, subject_field: str, period_field: str, values: Mapping[str, str]
) -> type[HttpJsonConfig]:
    """An ``HttpJsonConfig`` whose field mapping defaults to one system's export, so a
    consultant binding it gives only the endpoint and the credentials."""
    columns = dict(values)
    model = create_model(
        name,
        __base__=HttpJsonConfig,
        subject_field=(str, subject_field),
        period_field=(str, period_field),
        values=(dict[str, str], Field(default_factory=lambda: dict(columns))),
    )
    return cast(type[HttpJsonConfig], model)


class RetryableError(Exception):
    """A failure worth another try: 429, 5xx, a body that is cut off or not JSON."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (seconds or an HTTP date)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class HttpJsonAdapter(DataAdapter):
    """Readings from a paged JSON API (see the module docstring)."""

    name: ClassVar[str] = "http_json"
    title: ClassVar[dict[str, str]] = {"zh": "HTTP JSON 数据源", "en": "HTTP JSON source"}
    metrics: ClassVar[dict[str, str]] = {}
    Config: ClassVar[type[AdapterConfig]] = HttpJsonConfig
    secret_fields: ClassVar[frozenset[str]] = frozenset({"token"})

    @property
    def settings(self) -> HttpJsonConfig:
        assert isinstance(self.config, HttpJsonConfig)
        return self.config

    async def batches(self, cursor: Cursor | None) -> AsyncIterator[Batch]:
        c = self.settings
        start = _day(cursor.get("since")) if cursor else None
        since = start or c.start or self.today - timedelta(days=c.lookback_days)
        resume = dict(cursor) if cursor and start is not None else {}
        while True:
            if c.since_param is not None and since > self.today:
                return  # read up to today already
            until = min(since + timedelta(days=c.window_days - 1), self.today)
            if c.since_param is None:
                until = self.today
            async for batch in self._window(since, until, resume):
                yield batch
            resume = {}
            if c.since_param is None or until >= self.today:
                return
            since = until + timedelta(days=1)

    def _after(self, until: date) -> Cursor | None:
        """The cursor once a window is read: the next window, or the overlap to reread."""
        c = self.settings
        if c.since_param is None:
            return None  # no windows: every run reads everything (values are upserts)
        if until < self.today:
            return {"since": (until + timedelta(days=1)).isoformat()}
        again = self.today + timedelta(days=1 - c.overlap_days)
        return {"since": again.isoformat()}

    async def _window(
        self, since: date, until: date, resume: Mapping[str, Any]
    ) -> AsyncIterator[Batch]:
        c = self.settings
        page = int(resume.get("page", c.first_page))
        token = resume.get("token")
        while True:
            params = self._params(since, until, page, token)
            items, next_token = self._items(await self._get(params))
            where = f"{since}..{until} " + (f"page {page}" if c.paging == "page" else "")
            batch = self.parse(items, where.strip())
            last = (
                c.paging == "none"
                or (c.paging == "page" and len(items) < c.page_size)
                or (c.paging == "cursor" and not next_token)
            )
            if last:
                batch.cursor = self._after(until)
            elif c.paging == "page":
                batch.cursor = {"since": since.isoformat(), "page": page + 1}
            else:
                batch.cursor = {"since": since.isoformat(), "token": next_token}
            yield batch
            if last:
                return
            page, token = page + 1, next_token

    def _params(self, since: date, until: date, page: int, token: str | None) -> dict[str, str]:
        c = self.settings
        params: dict[str, str] = {}
        if c.since_param is not None:
            params[c.since_param] = since.isoformat()
            params[c.until_param] = until.isoformat()
        if c.paging == "page":
            params[c.page_param] = str(page)
            params[c.size_param] = str(c.page_size)
        elif c.paging == "cursor" and token:
            params[c.cursor_param] = str(token)
        return params

    def _headers(self) -> dict[str, str]:
        c = self.settings
        if c.auth == "none":
            return {}
        if not c.token:
            raise AdapterError(f"{self.name}: auth {c.auth!r} needs a token")
        if c.auth == "bearer":
            return {"Authorization": f"Bearer {c.token}"}
        return {c.api_key_header: c.token}

    async def _get(self, params: dict[str, str]) -> Any:
        """One page, retried on transient failures; AdapterError once retries run out."""
        c = self.settings
        timeout = aiohttp.ClientTimeout(total=c.timeout)
        headers = self._headers()

        def retry_on(exc: Exception) -> bool | float:
            if isinstance(exc, RetryableError) and exc.retry_after is not None:
                return min(exc.retry_after, c.max_wait)
            return isinstance(exc, (RetryableError, aiohttp.ClientError, TimeoutError))

        try:
            async for attempt in stamina.retry_context(
                on=retry_on,
                attempts=c.attempts,
                timeout=None,
                wait_initial=0.2,
                wait_max=c.max_wait,
                wait_jitter=0.5,
            ):
                with attempt:
                    async with self.session.get(
                        c.url, params=params, headers=headers, timeout=timeout
                    ) as response:
                        body = await response.text()
                        status = response.status
                        wait = retry_after(response.headers.get("Retry-After"))
                    if status == 429 or status >= 500:
                        raise RetryableError(f"HTTP {status}", wait)
                    if status >= 400:
                        raise AdapterError(f"{self.name}: HTTP {status}: {body[:200]}")
                    try:
                        return json.loads(body)
                    except json.JSONDecodeError as exc:
                        raise RetryableError(f"malformed JSON: {exc}") from exc
        except (RetryableError, aiohttp.ClientError, TimeoutError) as exc:
            raise AdapterError(
                f"{self.name}: {c.url} failed after {c.attempts} attempts: "
                f"{exc or type(exc).__name__}"
            ) from exc
        raise AdapterError(f"{self.name}: no attempt was made")  # pragma: no cover

    def _items(self, payload: Any) -> tuple[list[Any], str | None]:
        c = self.settings
        if isinstance(payload, list):
            return payload, None
        if isinstance(payload, dict) and c.items_field is not None:
            items = payload.get(c.items_field)
            if isinstance(items, list):
                token = payload.get(c.next_cursor_field)
                return items, str(token) if token else None
        raise AdapterError(
            f"{self.name}: expected a list"
            + (f" or an object with {c.items_field!r}" if c.items_field else "")
            + f", got {type(payload).__name__}"
        )

    def parse(self, items: list[Any], where: str = "") -> Batch:
        """Readings and rejections from a page's rows (each row on its own)."""
        c = self.settings
        batch = Batch()
        for i, item in enumerate(items):
            ref = f"{where} item {i}".strip()
            if not isinstance(item, dict):
                batch.rejected.append(Rejection(ref, "not an object", _show(item)))
                continue
            wanted = (
                [
                    (metric, item.get(column))
                    for column, metric in c.values.items()
                    if column in item
                ]
                if c.values
                else [(item.get(c.metric_field), item.get(c.value_field))]
            )
            if not wanted:
                batch.rejected.append(
                    Rejection(ref, f"none of {sorted(c.values)} is there", _show(item))
                )
            for metric, value in wanted:
                batch_add(batch, self._reading(item, metric, value, ref), ref, item)
        return batch

    def _reading(self, item: Mapping[str, Any], metric: Any, value: Any, ref: str) -> Reading | str:
        c = self.settings
        if not metric:
            return f"no {c.metric_field!r}"
        if self.metrics and metric not in self.metrics:
            return f"unknown metric {metric!r}"
        try:
            return reading_from(
                item,
                metric=str(metric),
                subject_field=c.subject_field,
                period_field=c.period_field,
                value=value,
                ref=ref,
            )
        except ValueError as exc:
            return f"{metric}: {exc}"


def batch_add(batch: Batch, found: Reading | str, ref: str, row: object) -> None:
    """Add a reading, or the row as rejected with the reason ``found`` gives."""
    if isinstance(found, Reading):
        batch.readings.append(found)
    else:
        batch.rejected.append(Rejection(ref, found, _show(row)))


def _show(row: object) -> str:
    text = json.dumps(row, ensure_ascii=False, default=str)
    return text if len(text) <= 500 else text[:497] + "..."


def _day(value: object) -> date | None:
    return date.fromisoformat(str(value)) if value else None
