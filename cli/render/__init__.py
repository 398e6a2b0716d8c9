"""Reporters: the engine's results as text, Markdown, CSV and HTML, and the escaping of hostile text."""
