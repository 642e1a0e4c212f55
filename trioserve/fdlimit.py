"""Raise the soft open-files limit: 1000 concurrent clients need more than the usual 1024."""

from __future__ import annotations

import resource


def raise_nofile_limit() -> int:
    """Lift RLIMIT_NOFILE's soft limit to the hard limit; return the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError):
            return soft
        return target
    return soft
