"""What the scripts in ``scripts/`` share, and a package each for what only one of them uses.

Shared: ``machine`` (paths, guards, what this machine is), ``processes`` (servers, measured
client runs, process trees), ``peers`` (how to start each server), ``runner`` (peers up, one
run at a time), ``tools`` (what load generators print, parsed), ``report`` (medians, verdicts,
tables), ``baselines`` (the naive programs to beat). Packages: ``bench/`` (bench.py's parts and
targets), ``seed/`` (seed_table.py's peers, its compare command and its table), ``soak/``
(soak.py's scenarios).
"""
