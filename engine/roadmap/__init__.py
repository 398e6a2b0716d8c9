"""The roadmap: items read from files (read.py), a batch classified as one roadmap (batch.py,
over worker processes in parallel.py), and the review meeting (review.py)."""
