"""Row-level security on PostgreSQL: the database's own guard behind the tenant door.

``TenantScope`` filters every query by its tenant; row-level security makes PostgreSQL
do the same underneath, so a query that forgot its filter still sees one tenant only.

- Every tenant-owned table has ``ENABLE`` and ``FORCE ROW LEVEL SECURITY`` and one
  policy, ``tenant_isolation``: a row is visible, and may be written, only when its
  ``tenant_id`` is the one the transaction is bound to (the setting
  ``goalgraph.tenant_id``), or when the transaction is bound to every tenant
  (``goalgraph.every_tenant = 'on'``). A connection bound to nothing sees nothing.
- The binding lives in a context variable of the running task. Opening a
  ``TenantScope`` binds it (``bind``); code that works across tenants on purpose (a
  credential looked up by its digest before its tenant is known, the scheduler finding
  due syncs, the tenant CLI) says so with ``every_tenant()``, and a test keeps the list
  of such places short.
- ``TenantBoundClient`` (the engine of every PostgreSQL URL) hands the binding to the
  server: inside a transaction with ``SET LOCAL`` semantics (``set_config(..., true)``),
  applied before the transaction's first query and again only when the binding
  changes; for a query outside a transaction, on the pooled connection, which asyncpg
  resets (``RESET ALL``) when the connection goes back to the pool.
- ``secure`` (run by ``goalgraph migrate``) applies the policies to every tenant table
  the models define, and grants the app's role what it needs and no more; the app's
  role owns no table and cannot bypass row-level security (``connection_role`` lets the
  server check that at start).

SQLite has no row-level security; there the tenant door is the guard, as before.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Final

import asyncpg
from tortoise.backends.asyncpg.client import AsyncpgDBClient, TransactionWrapper
from tortoise.backends.base.client import (
    ConnectionWrapper,
    NestedTransactionContext,
    PoolConnectionWrapper,
    TransactionContext,
    TransactionContextPooled,
)
from tortoise.exceptions import TransactionManagementError

TENANT_SETTING: Final = "goalgraph.tenant_id"
EVERY_TENANT_SETTING: Final = "goalgraph.every_tenant"
POLICY: Final = "tenant_isolation"

#: The policy's condition: the row's tenant is the bound one, or the binding is every
#: tenant. ``current_setting(..., true)`` is NULL or '' when nothing is bound, and a row
#: never equals NULL: unbound sees nothing.
CONDITION: Final = (
    f"tenant_id = NULLIF(current_setting('{TENANT_SETTING}', true), '')::bigint "
    f"OR current_setting('{EVERY_TENANT_SETTING}', true) = 'on'"
)


class _EveryTenant:
    """The binding of work that spans tenants on purpose."""

    def __repr__(self) -> str:
        return "EVERY_TENANT"


EVERY_TENANT: Final = _EveryTenant()

Binding = int | _EveryTenant | None

_binding: contextvars.ContextVar[Binding] = contextvars.ContextVar(
    "goalgraph_tenant_binding", default=None
)


def bind(tenant_id: int) -> None:
    """Bind the running task (and the tasks it starts from now on) to one tenant.

    Called by the tenant door whenever it is opened or used, so every query of a
    request runs bound to the request's tenant without each caller remembering it.
    Inside an explicit ``every_tenant()`` block the door does not narrow it: the block
    said it works across tenants.
    """
    if _binding.get() is not EVERY_TENANT:
        _binding.set(int(tenant_id))


def current_binding() -> Binding:
    """What the running task is bound to: a tenant id, ``EVERY_TENANT`` or None."""
    return _binding.get()


@contextmanager
def bound_to(tenant_id: int) -> Iterator[None]:
    """Bind to one tenant for the block, and restore the previous binding after it."""
    token = _binding.set(int(tenant_id))
    try:
        yield
    finally:
        _binding.reset(token)


@contextmanager
def unbound() -> Iterator[None]:
    """Bound to no tenant for the block: no tenant's rows are visible in it."""
    token = _binding.set(None)
    try:
        yield
    finally:
        _binding.reset(token)


@contextmanager
def every_tenant() -> Iterator[None]:
    """Work across tenants for the block, on purpose (kept to a few named places)."""
    token = _binding.set(EVERY_TENANT)
    try:
        yield
    finally:
        _binding.reset(token)


def binding_sql(binding: Binding, *, local: bool) -> str:
    """The one statement that hands ``binding`` to the server.

    Formatted, not bound as parameters, so it runs in the simple protocol without a
    prepared statement; the only value in it is an integer or a fixed word.
    """
    tenant = "" if binding is None or binding is EVERY_TENANT else str(int(binding))  # type: ignore[arg-type]
    every = "on" if binding is EVERY_TENANT else ""
    flag = "true" if local else "false"
    return (
        f"SELECT set_config('{TENANT_SETTING}', '{tenant}', {flag}), "
        f"set_config('{EVERY_TENANT_SETTING}', '{every}', {flag})"
    )


# -- the engine ---------------------------------------------------------------------------


class _BoundPoolConnection(PoolConnectionWrapper[asyncpg.Connection]):
    """A pooled connection for one query outside a transaction, bound before use.

    An unbound query binds nothing: the connection comes from the pool reset, so it
    sees no tenant's rows.
    """

    async def __aenter__(self) -> asyncpg.Connection:
        connection = await super().__aenter__()
        binding = current_binding()
        if binding is not None:
            await connection.execute(binding_sql(binding, local=False))
        return connection


class _BoundTransactionConnection(ConnectionWrapper[asyncpg.Connection]):
    """The transaction's connection for one query, with the binding brought up to date.

    A statement that arrives after its transaction ended is refused before it touches
    the connection, which by then is back in the pool and may be serving another
    request: a DataLoader batch whose callers were cancelled (a sibling field failed)
    can still be scheduled when the operation's transaction closes.
    """

    async def __aenter__(self) -> asyncpg.Connection:
        connection = await super().__aenter__()
        client = self.client
        assert isinstance(client, TenantBoundTransaction)
        try:
            if client.ended:
                raise TransactionManagementError("the statement's transaction has already ended")
            await client.apply_binding(connection)
        except BaseException:
            # __aexit__ does not run when __aenter__ raises: give the lock back here
            self._lock.release()
            raise
        return connection


class TenantBoundTransaction(TransactionWrapper):
    """A transaction (or a savepoint in one) whose queries run under the task's binding.

    The binding applied to the server is tracked once per outermost transaction (all
    its savepoints share the connection); a savepoint that rolls back also rolls back a
    binding applied inside it, so the tracked value is restored with it.
    """

    def __init__(self, connection: AsyncpgDBClient) -> None:
        super().__init__(connection)
        outer = connection if isinstance(connection, TenantBoundTransaction) else None
        self._state: _Applied = outer._state if outer is not None else _Applied()
        self._applied_at_start: Binding = None
        if outer is not None:
            # one connection, one statement at a time: savepoints share the lock
            self._lock = outer._lock
        self._outer = outer

    @property
    def ended(self) -> bool:
        """True once this transaction, or the one it is a savepoint of, has ended."""
        return self._finalized or (self._outer is not None and self._outer.ended)

    def _in_transaction(self) -> TransactionContext:
        return NestedTransactionContext(TenantBoundTransaction(self))

    def acquire_connection(self) -> ConnectionWrapper[asyncpg.Connection]:
        return _BoundTransactionConnection(self._lock, self)

    # Beginning and ending take the statement lock too: tortoise sends them straight
    # to the connection, so without it a COMMIT could meet a statement still running
    # for a concurrent resolver of the same operation ("another operation is in
    # progress"), and the connection would go back to the pool mid-statement.

    async def begin(self) -> None:
        async with self._lock:
            await super().begin()
        self._applied_at_start = self._state.binding

    async def commit(self) -> None:
        async with self._lock:
            await super().commit()

    async def rollback(self) -> None:
        async with self._lock:
            await super().rollback()
        self._state.binding = self._applied_at_start

    async def execute_script(self, query: str) -> None:
        """Run ``query``; ``SET TRANSACTION`` must precede every other statement of the
        transaction, so it goes first and the binding follows at the next query."""
        if query.lstrip().upper().startswith("SET TRANSACTION"):
            unbound: ConnectionWrapper[asyncpg.Connection] = ConnectionWrapper(self._lock, self)
            async with unbound as connection:
                await connection.execute(query)
            return
        await super().execute_script(query)

    async def apply_binding(self, connection: asyncpg.Connection) -> None:
        binding = current_binding()
        if binding != self._state.binding:
            await connection.execute(binding_sql(binding, local=True))
            self._state.binding = binding


@dataclass
class _Applied:
    """What the server holds for one transaction (None: nothing, as a fresh connection)."""

    binding: Binding = None


class TenantBoundClient(AsyncpgDBClient):
    """Tortoise's asyncpg client, handing the task's tenant binding to PostgreSQL."""

    def acquire_connection(self) -> Any:
        return _BoundPoolConnection(self, self._pool_init_lock)

    def _in_transaction(self) -> TransactionContext:
        return TransactionContextPooled(TenantBoundTransaction(self), self._pool_init_lock)


#: Tortoise finds an engine's client here (``engine: goalgraph.core.rls``).
client_class = TenantBoundClient


# -- securing the schema ------------------------------------------------------------------


def _ident(name: str) -> str:
    """A quoted SQL identifier (a table or role name)."""
    return '"' + name.replace('"', '""') + '"'


def policy_statements(table: str) -> list[str]:
    """Row-level security for one tenant table; safe to run again."""
    t = _ident(table)
    return [
        f"ALTER TABLE {t} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {t} FORCE ROW LEVEL SECURITY",
        f"DROP POLICY IF EXISTS {POLICY} ON {t}",
        f"CREATE POLICY {POLICY} ON {t} USING ({CONDITION}) WITH CHECK ({CONDITION})",
    ]


def grant_statements(app_role: str) -> list[str]:
    """What the app's role may do: read and write rows (never DDL, never TRUNCATE), use
    the id sequences (and move them past imported ids), and read which migrations have
    run."""
    role = _ident(app_role)
    return [
        f"GRANT USAGE ON SCHEMA public TO {role}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}",
        f"REVOKE INSERT, UPDATE, DELETE ON tortoise_migrations FROM {role}",
        f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {role}",
    ]


async def secure(client: Any, tenant_tables: list[str], app_role: str | None) -> None:
    """Apply row-level security to every tenant table and grant ``app_role`` its rights,
    in one transaction (run by ``goalgraph migrate`` as the tables' owner)."""
    statements = [s for table in tenant_tables for s in policy_statements(table)]
    if app_role:
        statements += grant_statements(app_role)
    await client.execute_script(";\n".join(statements))


@dataclass(frozen=True, slots=True)
class ConnectionRole:
    """The role a connection runs as, and whether row-level security binds it."""

    name: str
    superuser: bool
    bypasses_rls: bool
    owned_tables: int

    @property
    def guarded(self) -> bool:
        """True when row-level security applies to this role without exception: not a
        superuser, no BYPASSRLS, and owning no table (an owner could switch it off)."""
        return not (self.superuser or self.bypasses_rls or self.owned_tables)

    def problem(self) -> str | None:
        """What makes the role unguarded, in one phrase (None: it is guarded)."""
        if self.superuser:
            return f"connects as {self.name}, a superuser"
        if self.bypasses_rls:
            return f"connects as {self.name}, which has BYPASSRLS"
        if self.owned_tables:
            return f"connects as {self.name}, which owns {self.owned_tables} of its tables"
        return None


async def connection_role(client: Any) -> ConnectionRole:
    """The role behind the app's connection (one statement)."""
    rows = await client.execute_query_dict(
        "SELECT r.rolname AS name, r.rolsuper AS superuser, r.rolbypassrls AS bypasses, "
        "(SELECT count(*) FROM pg_tables t WHERE t.tableowner = current_user "
        "AND t.schemaname = current_schema()) AS owned "
        "FROM pg_roles r WHERE r.rolname = current_user"
    )
    row = rows[0]
    return ConnectionRole(
        str(row["name"]), bool(row["superuser"]), bool(row["bypasses"]), int(row["owned"])
    )


class Unbound:
    """ASGI middleware: every request and connection starts bound to no tenant.

    A request binds itself once it knows its tenant (a token, a credential, a slug in
    its path); until then it sees no tenant's rows, whatever task or context the
    server happened to run it from.
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        with unbound():
            await self.app(scope, receive, send)
