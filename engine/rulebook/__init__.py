"""The rulebook: its file format and loading, conditions, content hashing, and the diff of two rulebooks."""
