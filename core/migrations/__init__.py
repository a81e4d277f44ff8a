"""Schema migrations of goalgraph, generated and applied by Tortoise's migration engine."""
