"""Write side of the API: small mutation groups merged into one ``Mutation`` type."""
