"""Checking rulebooks: lint, rule tests, and two rulebooks compared over a roadmap (diff.py)."""
