"""Transparency: the notice file, its linter, published versions, pages and records."""
