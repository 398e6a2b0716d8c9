"""The roadmap, a command's work over many items: items read from files (read.py), one item of
a file explained or checklisted (item.py), a batch classified as one roadmap (batch.py, each
item by final.py, over worker processes in parallel.py), a batch recorded (record.py), the
review meeting (review.py), and the live meeting page's requests (meeting.py)."""
