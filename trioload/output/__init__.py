"""What a run shows and writes: ab's report and files, HdrHistogram files, plots.

- ``outputs``: where the report and the files go (paths checked before the run)
- ``report``: ab's text report line for line, then what ab cannot show
- ``htmlreport``: ab's ``-w`` HTML table
- ``abfiles``: ab's ``-e`` CSV and ``-g`` TSV
- ``hdrlog``: the ``--hdr-log`` interval log and the ``.hgrm``
- ``verbose``, ``request_log``: ab's ``-v`` messages, and what the engine writes per response
- ``plot``: ``trioload plot``, runs' JSON drawn with matplotlib (an optional extra)
"""
