"""Bids: routes, forms, rules and queries."""
