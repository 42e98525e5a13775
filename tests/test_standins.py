"""The smoke run's stand-ins: torchvision reads them as the real files, and only the smoke run accepts them."""

import socket
import warnings

import pytest
import torch

from gancourse.data.digits import mnist_5k
from gancourse.data.real import DataUnavailableError, celeba, fashion_mnist, image_folder, mnist
from gancourse.metrics.extractors import InceptionFeatures
from tests.standins import CELEBA_SPLIT_SIZES, MNIST_SIZES, write_standins


@pytest.fixture(scope="module")
def standins(tmp_path_factory):
    return write_standins(tmp_path_factory.mktemp("standins"))


@pytest.fixture
def no_network(monkeypatch):
    """Any connection attempt fails the test: the stand-ins on disk must be enough."""
    def refuse(*args, **kwargs):
        raise AssertionError("a connection was attempted although everything is on disk")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.fixture
def smoke(monkeypatch):
    monkeypatch.setenv("GANCOURSE_PROFILE", "full")
    monkeypatch.setenv("GANCOURSE_SMOKE", "1")


def test_idx_files_read_by_torchvision_are_the_digits_written(standins, no_network):
    train, test = mnist(root=standins, train=True), mnist(root=standins, train=False)
    assert (len(train), len(test)) == (MNIST_SIZES["train"], MNIST_SIZES["t10k"])
    digits = mnist_5k("all")
    n = MNIST_SIZES["train"]
    assert torch.equal(train.targets, digits.labels[:n])
    assert torch.allclose(train.data[:, None].float() / 127.5 - 1, digits.images[:n], atol=1 / 255)
    x, y = test[0]
    assert x.shape == (1, 28, 28) and -1 <= x.min() and x.max() <= 1 and y == int(digits.labels[n])
    inverted = fashion_mnist(root=standins, train=True)
    assert torch.equal(inverted.data, 255 - train.data)


def test_outside_the_smoke_run_the_stand_ins_fail_their_checksums(standins, no_network, monkeypatch):
    monkeypatch.setenv("GANCOURSE_DATA", str(standins))
    with pytest.raises(DataUnavailableError, match="wrong MD5"):
        celeba(root=standins)
    with pytest.raises(RuntimeError, match="expected SHA-256"):
        InceptionFeatures()


def test_the_smoke_run_reads_the_stand_in_celeba_split_by_split(standins, no_network, smoke):
    sizes = {split: len(celeba(root=standins, split=split, image_size=32)) for split in ("train", "valid", "test")}
    assert sizes == {"train": CELEBA_SPLIT_SIZES[0], "valid": CELEBA_SPLIT_SIZES[1], "test": CELEBA_SPLIT_SIZES[2]}
    x, attributes = celeba(root=standins, split="all", image_size=32)[5]
    assert x.shape == (3, 32, 32) and attributes.shape == (40,) and set(attributes.tolist()) <= {0, 1}


def test_the_smoke_run_loads_the_stand_in_inception_through_the_real_loader(standins, no_network, smoke,
                                                                           monkeypatch):
    monkeypatch.setenv("GANCOURSE_DATA", str(standins))
    with pytest.warns(UserWarning, match="stand-in"):
        features = InceptionFeatures()
    with torch.no_grad():
        out = features(torch.rand(2, 1, 28, 28) * 2 - 1)
    assert out.shape == (2, 2048) and torch.isfinite(out).all()


def test_the_stand_in_image_folder(standins):
    faces = image_folder(standins / "faces", image_size=16)
    assert len(faces) == 24 and faces[0][0].shape == (3, 16, 16)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert all(-1 <= faces[i][0].min() and faces[i][0].max() <= 1 for i in range(len(faces)))
