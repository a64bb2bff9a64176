"""Spreadsheet builders, one module per return, kept apart from the web layer.

Each builder takes plain rows (from grants.finance.reports, or any objects with the same attributes) and metadata, and
writes an .xlsx to a path or a binary file object. Nothing here imports Flask or the database, so the web
download, the `flask export` command, the tests and the benchmark all call the same code.
"""
