"""The goalgraph domain: models, tenancy, goal graph operations and their rules.

Nothing in here imports the schema, plugins or adapters packages; they build on core.
"""
