"""Deterministic demo data."""
