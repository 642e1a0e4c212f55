"""Sans-IO scanner that finds where an HTTP/1.x request head ends, across any split of reads.

STUB: the API below is fixed; the implementation is being written.

    scanner = HeadScanner(max_head=8192, max_request_line=4096)
    result = scanner.feed(chunk)      # any number of times, chunks of any size, b"" allowed
    if result is NEED_MORE: ...
    elif isinstance(result, HeadComplete): result.end   # stream offset just past the terminator
    else: result.status                                  # HeadRejected: 400, 414 or 431
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True, slots=True)
class HeadComplete:
    """The head ends at stream offset ``end`` (exclusive: the terminator is inside)."""

    end: int


@dataclass(frozen=True, slots=True)
class HeadRejected:
    """The head is refused; answer with ``status`` (400, 414 or 431) and close."""

    status: int


class _NeedMore:
    __slots__ = ()

    def __repr__(self) -> str:
        return "NEED_MORE"


NEED_MORE: Final = _NeedMore()

ScanResult = HeadComplete | HeadRejected | _NeedMore
