"""The roadmap: the review meeting over many items, and batch runs."""
