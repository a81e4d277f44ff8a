"""Data adapters: how business data (sales, attendance, production output) reaches
goalgraph as KPI measurements.

Adapters implement ``DataAdapter`` (declare their metrics, fetch readings for a day
range); ``HttpJsonAdapter`` covers any system that can answer JSON over HTTP.
"""

from .contract import DataAdapter, Reading
from .http_json import AdapterError, HttpJsonAdapter

__all__ = ["AdapterError", "DataAdapter", "HttpJsonAdapter", "Reading"]
