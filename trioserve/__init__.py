"""trioserve: a hardened keep-alive-off HTTP server on trio, the reference target of trioload."""

__version__ = "0.1.0"
