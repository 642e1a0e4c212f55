"""The engines: what moves a run's bytes and stamps its times (trio at the edge, sans-IO inside).

- ``load``: the run's nursery and time limit, and which engine serves it
- ``shards``: the default on Linux, a few tasks each multiplexing its connections over epoll
- ``tls_shards``: the shard whose connections speak TLS (its override points of ``shards``)
- ``tasks``: the fallback elsewhere, a trio task per connection
- ``state``: what every engine task of a run shares (the tally, the next request, the stop)
- ``wire``: one request on the wire (socket kind, errno to failure column, the record)
- ``response``: sans-IO response reader, and what a run has read before (``KnownResponses``)
- ``schedule``: sans-IO ``-R`` open-model schedule, and when a ticking engine wakes
- ``shape``: sans-IO rate shapes (``-R A:B``, ``--stages``): when request k is due
- ``doze``: a short sleep between ticks, without trio's scheduler when nothing else waits
- ``kernel_clock``: the kernel's receive timestamps, on ``perf_counter_ns``'s clock
- ``tls``: the client's TLS context from ab's flags, and what the report says of a session
"""
