"""Data adapters: how business data (sales, attendance, production output) reaches
goalgraph as KPI measurements, written idempotently through the core services."""
