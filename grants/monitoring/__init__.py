"""Monitoring: routes, forms, rules and queries."""
