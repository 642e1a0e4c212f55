"""``trioload knee``: the highest rate at which a server keeps every SLO.

- ``slo``: the objectives (``--slo p99=20ms``, ``--slo failed=0.1%``) and a step's verdict;
- ``search``: which rate to try next (a climb, then bisection), and how the search ended;
- ``outcome``: what the command was asked, and what its steps found;
- ``steps``: the trio side: the probe, each step's warm-up and measured window;
- ``report``: the table, the answer, and the JSON;
- ``plot``: the hockey stick (``trioload plot knee.json``);
- ``command``: the command line.
"""
