"""Shared pieces of ``scripts/bench.py`` and ``scripts/seed_table.py``.

Plain code (parsers, tables, verdicts) lives apart from the code that starts processes, so each
module reads in one sitting.
"""
