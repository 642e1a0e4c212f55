"""The bench's parts (``scripts/bench.py``): what each runs, and the targets it is judged by."""
