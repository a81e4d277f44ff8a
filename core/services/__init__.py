"""Use cases of the goal graph: every write goes through here, in one transaction.

Each service takes a ``TenantScope`` (who is acting, in which tenant), checks input
and permissions, raises ``DomainError`` for anything refused, and writes the change
together with its audit event.
"""
