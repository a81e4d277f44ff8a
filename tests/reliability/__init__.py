"""The figures of docs/reliability.md: tests that measure as they assert.

Each test here proves one property (no 5xx under fuzzing, no cross-tenant leak, no lost
update…) and records the figures behind it through the ``figures`` fixture. ``make
test`` runs them at CI size; ``make reliability`` runs them at full size on SQLite and
PostgreSQL and writes the table into docs/reliability.md (``report.py``).
"""
