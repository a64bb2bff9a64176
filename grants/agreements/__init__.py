"""Agreements: routes, forms, rules and queries."""
