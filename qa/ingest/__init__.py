"""Ingest: articles read from files and cleaned, their language, and their split into passages."""
