"""Paging of the management API's lists (``offset``, ``limit``)."""

#: The largest ``limit`` a list operation takes; the ``iter_*`` methods page by it.
PAGE_MAX = 500
#: The server's default ``limit`` of a list operation.
PAGE_DEFAULT = 20
