"""Payments against grant agreements."""
