"""Assessment: routes, forms, rules and queries."""
