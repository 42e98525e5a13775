"""A server that accepts a connection and never answers: every download becomes a clear error, fast."""

from __future__ import annotations

import socket
import threading
import time
import urllib.request

import pytest
from torchvision import datasets

import gancourse.network as network
from gancourse.data import real
from gancourse.metrics import extractors

STALL_S = 1.5


@pytest.fixture
def silent_server():
    """Yield the port of a loopback server that accepts connections and then says nothing, ever."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    held, stop = [], threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])  # keep it open, send nothing
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join(2)
    for conn in held:
        conn.close()
    server.close()


@pytest.fixture
def short_timeout(monkeypatch):
    monkeypatch.setattr(network, "READ_TIMEOUT_S", STALL_S)


def test_network_timeout_bounds_a_read_and_restores_the_default(silent_server, short_timeout):
    before = socket.getdefaulttimeout()
    started = time.perf_counter()
    with pytest.raises(OSError, match="timed out"), network.network_timeout():
        urllib.request.urlopen(f"http://127.0.0.1:{silent_server}/file")
    assert time.perf_counter() - started < STALL_S + 5
    assert socket.getdefaulttimeout() == before


def test_the_inception_download_gives_up_on_a_silent_server(silent_server, short_timeout, monkeypatch, tmp_path):
    monkeypatch.setattr(extractors, "INCEPTION_URL", f"http://127.0.0.1:{silent_server}/pt_inception.pth")
    monkeypatch.setattr(extractors, "data_dir", lambda: tmp_path)
    started = time.perf_counter()
    with pytest.raises(RuntimeError, match=r"could not download the InceptionV3 FID weights \(no data for 1.5 s\)"):
        extractors.inception_weights(download=True)
    assert time.perf_counter() - started < STALL_S + 5
    assert not list(tmp_path.rglob("*.partial"))  # nothing half-written is left behind


def test_the_mnist_download_gives_up_on_a_silent_server(silent_server, short_timeout, monkeypatch, tmp_path):
    monkeypatch.setattr(datasets.MNIST, "mirrors", [f"http://127.0.0.1:{silent_server}/"])
    monkeypatch.setitem(real._MNIST_HOSTS, "MNIST", ("127.0.0.1", silent_server))
    started = time.perf_counter()
    with pytest.raises(real.DataUnavailableError, match="MNIST download failed"):
        real.mnist(root=tmp_path, download=True)
    assert time.perf_counter() - started < 4 * (STALL_S + 5)  # one stalled read per file at the most
