"""A run's result: defined, built, written and read back here, and nowhere else.

- ``tally``: the counts of a run (HDR histograms per phase, failure columns, bytes)
- ``timeline``: the run cut into wall-clock intervals, each a small tally
- ``result``: ``RunResult`` and its JSON, for users and for a ``-W`` parent; merged runs
- ``merge``: ``trioload merge``, one exact report from several runs' JSON
"""
