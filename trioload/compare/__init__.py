"""``trioload compare``: servers ranked over rounds of runs, with confidence intervals.

- ``command``: the command line, checked into a plan before any round; the exit status
- ``plan``: the frozen plan (targets, each with its run's configuration; rounds, order, baseline)
- ``servers``: the ``--serve`` commands started, awaited and always stopped (trio)
- ``procfs``: a process tree's CPU from Linux ``/proc``
- ``rounds``: the trio engine: warm-up, rounds in alternating order, CPU read around each run
- ``outcome``: what the rounds measured, run by run
- ``stats``: sans-IO statistics: medians, intervals, paired ratios, Mann-Whitney U
- ``summary``: sans-IO figures of a comparison: per target, against the baseline, warnings
- ``report``: sans-IO text report
- ``document``: the comparison's JSON, written and read back
- ``plot``: ``trioload plot compare.json``
"""
