"""Variations: changes to a grant agreement after it is issued."""
