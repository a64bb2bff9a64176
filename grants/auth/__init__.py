"""Auth: routes, forms, rules and queries."""
