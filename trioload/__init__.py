"""trioload: an ab-faithful HTTP load generator on trio, with HDR percentiles and JSON."""

__version__ = "0.1.0"
