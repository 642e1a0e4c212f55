"""Running a load: one process, or ``-W`` worker processes, with what comes before and around.

- ``process``: one run in this process (signals, progress, CPU accounting around the engine)
- ``workers``: ``-W N``, the parent that runs worker processes and merges what they measured
- ``series``: one run of a series (compare's rounds, knee's steps), and a signal between runs
- ``worker``: the worker's own entry point, run by the parent
- ``worker_protocol``: sans-IO, what a worker is told and what it says back
- ``preflight``: one lookup and one connection before the run
- ``fdlimit``: ``-c`` against the open-files limit
- ``progress``: sans-IO progress display
"""
