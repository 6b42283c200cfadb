"""Reusable fakes: local servers that speak real protocols, and realistic sample data."""
