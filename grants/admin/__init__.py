"""Admin: routes, forms, rules and queries."""
