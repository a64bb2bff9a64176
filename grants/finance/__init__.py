"""Finance: routes, forms, rules and queries."""
