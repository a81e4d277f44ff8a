"""The generic adapters every tenant has; packs add their own (``goalgraph_adapters``)."""

from __future__ import annotations

from .contract import DataAdapter
from .files import FileAdapter
from .http_json import HttpJsonAdapter
from .webhook import WebhookAdapter

GENERIC: dict[str, type[DataAdapter]] = {
    adapter.name: adapter for adapter in (HttpJsonAdapter, FileAdapter, WebhookAdapter)
}
