"""The GraphQL API of goalgraph (strawberry): types, queries, mutations, loaders."""

from .build import build_schema

__all__ = ["build_schema"]
