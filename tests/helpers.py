"""Small helpers shared by tests."""

import socket
import time

from django.db import connection
from django.test.utils import CaptureQueriesContext


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout: float = 30.0, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")


def assert_constant_queries(client, url_for, grow, sizes=(1, 50)) -> int:
    """The page at `url_for(n)` runs no more queries with `sizes[1]` rows than
    with `sizes[0]`. `grow(n)` brings the data to n rows (it is called with each
    size in turn). Returns the query count, for a test to pin it if it wants.

    Each page is fetched once before it is counted (first-request caches)."""
    counts = []
    for size in sizes:
        grow(size)
        url = url_for(size)
        client.get(url)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        counts.append(len(queries.captured_queries))  # read now: the next request resets it
    assert counts[-1] <= counts[0], f"queries grew with the rows shown: {counts}"
    return counts[0]
