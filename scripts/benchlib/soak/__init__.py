"""The reliability soak (``scripts/soak.py``): its trioserve and trioload runs, its scenarios."""
