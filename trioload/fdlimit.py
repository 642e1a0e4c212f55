"""Make sure -c fits under the open-files limit before the run, not request by request."""

from __future__ import annotations

from trioload.config import UsageError
from trioserve.fdlimit import raise_nofile_limit

#: descriptors besides the sockets: stdio, the epoll instance, trio's wakeup pipe, imports.
SPARE_FDS = 32


def check_fd_limit(sockets: int) -> None:
    """Raise the soft limit to the hard one; UsageError (with the fix) if it is still short."""
    limit = raise_nofile_limit()
    needed = sockets + SPARE_FDS
    if limit < needed:
        raise UsageError(
            f"-c needs about {needed} open files per process but the limit is {limit}: "
            f"raise it with `ulimit -n {needed}` (or lower -c)"
        )
