"""Tenant-first keys: in every tenant table, each index and unique key a tenant's
queries use leads with ``tenant_id``, read from the migrated database itself.

The tenant is then the first thing every lookup narrows by, one tenant's rows sit
together in each index, and the tables could be distributed by tenant (Citus), which
requires every unique key to include the distribution column (docs/deploy.md).
"""

from __future__ import annotations

from typing import Any

import httpx
from tortoise import Tortoise

from goalgraph.core.db import tenant_tables

#: Indexes that lead with something else on purpose, with the reason.
NOT_TENANT_FIRST: dict[tuple[str, tuple[str, ...]], str] = {
    ("sync_job", ("next_run_at",)): "the scheduler finds due jobs of every tenant at once",
    ("sync_job", ("binding_id",)): "one job per binding (a one-to-one key)",
    # a credential is found by its digest before its tenant is known, and a digest is
    # unique across tenants
    ("access_key", ("secret_hash",)): "API keys are looked up by digest",
    ("account_link", ("secret_hash",)): "invitation and reset links are looked up by digest",
    ("oidc_login", ("state_hash",)): "a sign-in comes back with its state only",
    ("refresh_token", ("token_hash",)): "refresh tokens are looked up by digest",
    ("session_family", ("sid",)): "a session is named by its id in the access token",
}

#: On SQLite, the unique keys written inline in CREATE TABLE before tenant-first keys
#: (migration 0016): dropping an inline UNIQUE means rebuilding the table, and an
#: embedded single-process database gains nothing from it.
SQLITE_INLINE: set[tuple[str, tuple[str, ...]]] = {
    ("dotted_line", ("person_id", "manager_id")),
    ("kpi_link", ("key_result_id", "kpi_id")),
    ("measurement", ("kpi_id", "period_start")),
    ("org_source_member", ("binding_id", "person_id")),
    ("score", ("cycle_id", "kind", "node_id")),
    ("webhook_delivery", ("binding_id", "signature")),
}


async def _keys(client: Any) -> set[tuple[str, tuple[str, ...]]]:
    """(table, columns) of every index and unique key, the primary keys left out."""
    if client.capabilities.dialect == "postgres":
        rows = await client.execute_query_dict(
            "SELECT t.relname AS tbl, array_agg(a.attname ORDER BY k.n) AS cols "
            "FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid "
            "JOIN pg_namespace s ON s.oid = t.relnamespace AND s.nspname = current_schema() "
            "CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, n) "
            "JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum "
            "WHERE NOT i.indisprimary GROUP BY i.indexrelid, t.relname"
        )
        return {(r["tbl"], tuple(r["cols"])) for r in rows}
    keys = set()
    for table in tenant_tables():
        for index in await client.execute_query_dict(f'PRAGMA index_list("{table}")'):
            if index["origin"] == "pk":
                continue
            columns = await client.execute_query_dict(f'PRAGMA index_info("{index["name"]}")')
            keys.add((table, tuple(c["name"] for c in sorted(columns, key=lambda c: c["seqno"]))))
    return keys


async def test_every_index_of_a_tenant_table_leads_with_the_tenant(
    client: httpx.AsyncClient,
) -> None:
    tables = set(tenant_tables())
    connection = Tortoise.get_connection("default")
    keys = {k for k in await _keys(connection) if k[0] in tables}
    assert len(keys) > 40, keys  # the walk found the schema's indexes
    expected = set(NOT_TENANT_FIRST)
    if connection.capabilities.dialect == "sqlite":
        expected |= SQLITE_INLINE
    others = {k for k in keys if k[1][0] != "tenant_id"}
    assert others == expected, (sorted(others - expected), sorted(expected - others))
