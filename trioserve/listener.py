"""The listening socket: address resolution, socket options, bind and listen, from a config.

Kept apart from ``trioserve.sockets`` (which waits on connections through trio): this is
plain synchronous setup, done once before any nursery so that a bind error surfaces as one
plain ``OSError``.
"""

from __future__ import annotations

import socket

from trioserve.config import ServerConfig


def bound_socket(config: ServerConfig, *, reuse_port: bool) -> socket.socket:
    """A socket bound to (host, port), not yet listening: SO_REUSEADDR, and SO_REUSEPORT
    when asked (the workers' listeners share a port that way)."""
    family, kind, proto, _, address = socket.getaddrinfo(
        config.host, config.port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(address)
    except BaseException:
        sock.close()  # a failed bind must not leak the descriptor
        raise
    return sock


def bind_listener(config: ServerConfig) -> socket.socket:
    """A non-blocking listening socket on (host, port) with the configured backlog."""
    listener = bound_socket(config, reuse_port=config.reuse_port)
    try:
        if config.defer_accept and hasattr(socket, "TCP_DEFER_ACCEPT"):
            # The kernel completes the handshake but wakes us only once the request has
            # arrived, so the accept loop can answer it inline instead of starting a task.
            listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_DEFER_ACCEPT, 1)
        listener.listen(config.backlog)
        listener.setblocking(False)
    except BaseException:
        listener.close()
        raise
    return listener
