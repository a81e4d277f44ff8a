"""Insights from cross-analysing OKR and KPI data (断层点 and the statistics behind them)."""
