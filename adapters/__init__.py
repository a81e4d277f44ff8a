"""Data adapters: how business data (sales, attendance, production output) reaches
goalgraph as KPI measurements.

Adapters implement ``DataAdapter`` (declare their metrics, fetch readings for a day
range); ``HttpJsonAdapter`` covers any system that can answer JSON over HTTP, and
``FileAdapter`` (``parse_table``) the CSV and Excel files of systems that cannot.
"""

from .contract import DataAdapter, Reading
from .files import FileAdapter, FileConfig, parse_table
from .http_json import AdapterError, HttpJsonAdapter

__all__ = [
    "AdapterError",
    "DataAdapter",
    "FileAdapter",
    "FileConfig",
    "HttpJsonAdapter",
    "Reading",
    "parse_table",
]
