"""Public: routes, forms, rules and queries."""
