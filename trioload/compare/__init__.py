"""trioload compare."""
