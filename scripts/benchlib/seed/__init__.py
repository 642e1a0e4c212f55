"""The seed page's table (``scripts/seed_table.py``): its peers, the ``trioload compare``
command that measures them, and the table of compare's JSON."""
