"""Industry packs for goalgraph (retail, manufacturing, internet and third-party ones).

Packs contribute KPI and OKR templates, data adapters, scoring policies and lifecycle
stages through pluggy hooks; pack authors import their public names from here.
"""
