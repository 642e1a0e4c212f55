"""The naive programs the issue measured, written into the bench as the baselines to beat.

Run each with ``python -m scripts.benchlib.baselines.NAME`` from the repository root.
"""
