"""Items: the item model a rulebook defines and item files (model.py), roadmap-tool exports (mapping.py),
JSON Lines streams (lines.py as lines, stream.py as items), and keys unique across a batch (keys.py)."""
