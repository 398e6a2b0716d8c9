"""The commands, one module per group of them: each parses, calls one engine function, renders."""
