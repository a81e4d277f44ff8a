"""The scoring engine: KPI policies, period aggregation, and (built on them) grades."""
