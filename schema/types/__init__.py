"""GraphQL object types; ORM rows stay private to them (``strawberry.Private``)."""
