"""Main: routes, forms, rules and queries."""
