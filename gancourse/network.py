"""Every network read of the package has a timeout: a server that accepts and never answers is an error.

urllib (the Inception weights, torchvision's MNIST) and requests (gdown's CelebA) open sockets
without a timeout unless told: against a server that accepts the connection and then stalls, in
the TLS handshake or mid-file, they wait forever. Inside ``network_timeout()`` every socket the
process opens gives up after ``READ_TIMEOUT_S`` seconds without data, so a stall becomes an
exception that the callers turn into a clear error.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["READ_TIMEOUT_S", "network_timeout"]

READ_TIMEOUT_S = 30.0  # seconds a download may wait for the next bytes before it is called stalled


@contextmanager
def network_timeout(seconds: float | None = None) -> Iterator[float]:
    """Within the block, every new socket times out after ``seconds`` (default ``READ_TIMEOUT_S``) of silence."""
    seconds = READ_TIMEOUT_S if seconds is None else seconds
    before = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds)
    try:
        yield seconds
    finally:
        socket.setdefaulttimeout(before)
