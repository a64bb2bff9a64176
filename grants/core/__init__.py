"""Shared plumbing every feature uses: models, money, dates, audit, mail, access, forms, templating."""
