"""Make sure -c fits under the open-files limit before the run, not request by request."""

from __future__ import annotations

import resource

from trioload.config import LoadConfig, UsageError

#: descriptors besides the sockets: stdio, the epoll instances, trio's wakeup pipe, imports.
SPARE_FDS = 32


def check_run_fds(config: LoadConfig) -> None:
    """``check_fd_limit`` for a run of ``config``: each process holds its share of ``-c``."""
    check_fd_limit(config.concurrency // config.workers + 1)


def check_fd_limit(sockets: int) -> None:
    """Raise the soft limit to the hard one; UsageError (with the fix) if it is still short."""
    limit = _soft_limit_raised()
    needed = sockets + SPARE_FDS
    if limit < needed:
        raise UsageError(
            f"-c needs about {needed} open files per process but the limit is {limit}: "
            f"raise it with `ulimit -n {needed}` (or lower -c)"
        )


def _soft_limit_raised() -> int:
    """RLIMIT_NOFILE's soft limit after lifting it as far as the hard limit allows."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = max(soft, 1 << 20) if hard == resource.RLIM_INFINITY else hard
    if wanted <= soft:
        return soft
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    except (ValueError, OSError):
        return soft
    return wanted
