"""Deciding: rules, then capacity, then overrides; the decision models, explanations, what-if search and JSON encoding."""
