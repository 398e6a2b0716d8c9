"""Checking rulebooks: lint, rule tests."""
