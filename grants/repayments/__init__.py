"""Repayments: money a grantee owes back under its agreement, and the money received against it."""
