"""Items: the item model a rulebook defines, item files, roadmap-tool exports, and JSON Lines streams."""
