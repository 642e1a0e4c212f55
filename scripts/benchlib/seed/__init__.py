"""The seed page's table (``scripts/seed_table.py``): its peers, rows and chart."""
