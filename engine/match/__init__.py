"""Matching: which rules fire for an item's signals. The durable-rules adapter, and the pure-Python reference evaluator."""
