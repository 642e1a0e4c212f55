"""The trio engine: the run's nursery, its time limit, and the engine that moves the requests.

Two engines move the bytes, behind the same counters (``trioload.engine.state``) and the same
per-request accounting (``trioload.engine.wire``):

- ``shards`` (``trioload.engine.shards``): a few tasks, each multiplexing its connections over one
  epoll set. The default wherever ``select.epoll`` exists (Linux).
- ``tasks`` (``trioload.engine.tasks``): one task per connection, waiting in trio per request. The
  fallback elsewhere, and ``--engine tasks`` for comparison.
"""

from __future__ import annotations

import socket
from functools import partial
from time import perf_counter_ns

import trio

from trioload.engine import shards
from trioload.engine.state import EngineState
from trioload.engine.tasks import run_tasks
from trioload.engine.tls_shards import TlsShard
from trioload.engine.wire import Address
from trioload.results.tally import KERNEL_CLOCK, READ_CLOCK

ENGINES = ("auto", "shards", "tasks")
CLOCKS = ("auto", KERNEL_CLOCK, READ_CLOCK)


def default_engine() -> str:
    """What ``--engine auto`` picks on this platform."""
    return "shards" if shards.AVAILABLE else "tasks"


async def run_load(state: EngineState, family: socket.AddressFamily, address: Address) -> None:
    """Run the whole load; returns when every request is done or the run was stopped."""
    config = state.config
    request = config.encode_request()
    name = default_engine() if config.engine == "auto" else config.engine
    engine = shards.run_shards if name == "shards" else run_tasks
    if state.tls_context is not None:
        engine = partial(shards.run_shards, shard=TlsShard)  # https: shards only (cli checks)
    state.begin()
    try:
        async with trio.open_nursery() as nursery:
            if state.stop_ns:
                nursery.start_soon(_stop_at_the_limit, state)
            await engine(state, family, address, request, config.concurrency)
            nursery.cancel_scope.cancel()
    finally:
        state.end()


async def _stop_at_the_limit(state: EngineState) -> None:
    """``-t``: stop when the run's time is up (``EngineState.stop_ns``)."""
    await trio.sleep(max(state.stop_ns - perf_counter_ns(), 0) / 1e9)
    state.stopping = True
