"""data.real: loaders that read local files, fail fast offline, and name the broken download. No network."""

import socket
import time
import zipfile

import numpy as np
import pytest
import torch
from PIL import Image

from gancourse.data import real
from gancourse.data.real import (
    CELEBA_ATTRIBUTES,
    DataUnavailableError,
    celeba,
    fashion_mnist,
    image_folder,
    looks_like_html,
    mnist,
)

QUOTA_PAGE = (b"<!DOCTYPE html><html><head><title>Google Drive - Quota exceeded</title></head>"
              b"<body>Too many users have viewed or downloaded this file recently.</body></html>")


@pytest.fixture
def offline(monkeypatch):
    """No host answers, and torchvision is never asked to download."""
    monkeypatch.setattr(real, "_reachable", lambda *a, **k: False)

    def no_torchvision(*a, **k):
        raise AssertionError("torchvision must not be called when the files are missing and we are offline")

    monkeypatch.setattr(real.datasets, "MNIST", type("MNIST", (real.datasets.MNIST,), {"__init__": no_torchvision}))
    monkeypatch.setattr(real.datasets, "FashionMNIST",
                        type("FashionMNIST", (real.datasets.FashionMNIST,), {"__init__": no_torchvision}))
    monkeypatch.setattr(real, "_CelebA", type("CelebA", (real._CelebA,), {"__init__": no_torchvision}))


@pytest.fixture
def no_network(monkeypatch):
    """Any reachability check fails the test: the files on disk must be enough."""
    def fail(*a, **k):
        raise AssertionError("the network was consulted although the files are on disk")

    monkeypatch.setattr(real, "_reachable", fail)


def write_idx(path, array: np.ndarray) -> None:
    """Write an unsigned-byte IDX file (the MNIST format: magic 0x0800 | ndim, big-endian sizes)."""
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    path.write_bytes(header + array.astype(np.uint8).tobytes())


def fake_mnist(root, folder="MNIST", n_train=5, n_test=3):
    raw = root / folder / "raw"
    raw.mkdir(parents=True)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = np.zeros((n, 28, 28), dtype=np.uint8)
        for i in range(n):
            images[i, :, : 2 * (i + 1)] = 255  # image i: its 2(i+1) leftmost columns white
        write_idx(raw / f"{prefix}-images-idx3-ubyte", images)
        write_idx(raw / f"{prefix}-labels-idx1-ubyte", np.arange(n) % 10)
    return raw


# --- constants -----------------------------------------------------------------------------------


def test_celeba_attributes_are_the_40_in_canonical_order():
    expected = (
        "5_o_Clock_Shadow Arched_Eyebrows Attractive Bags_Under_Eyes Bald Bangs Big_Lips Big_Nose Black_Hair "
        "Blond_Hair Blurry Brown_Hair Bushy_Eyebrows Chubby Double_Chin Eyeglasses Goatee Gray_Hair Heavy_Makeup "
        "High_Cheekbones Male Mouth_Slightly_Open Mustache Narrow_Eyes No_Beard Oval_Face Pale_Skin Pointy_Nose "
        "Receding_Hairline Rosy_Cheeks Sideburns Smiling Straight_Hair Wavy_Hair Wearing_Earrings Wearing_Hat "
        "Wearing_Lipstick Wearing_Necklace Wearing_Necktie Young"
    ).split()
    assert len(expected) == 40
    assert CELEBA_ATTRIBUTES == tuple(expected)


# --- offline: fail at once, say what to do ---------------------------------------------------------


@pytest.mark.parametrize("loader, folder, some_file", [
    (mnist, "MNIST/raw", "train-images-idx3-ubyte[.gz]"),
    (fashion_mnist, "FashionMNIST/raw", "t10k-labels-idx1-ubyte[.gz]"),
    (celeba, "celeba", "list_attr_celeba.txt"),
])
def test_offline_fails_at_once_naming_quick_profile_and_data_folder(offline, tmp_path, loader, folder, some_file):
    start = time.perf_counter()
    with pytest.raises(DataUnavailableError) as info:
        loader(root=tmp_path)
    assert time.perf_counter() - start < 1.0
    msg = str(info.value)
    assert "GANCOURSE_PROFILE=quick" in msg
    assert "GANCOURSE_DATA" in msg
    assert str(tmp_path / folder) in msg
    assert some_file in msg


def test_offline_default_root_is_gancourse_data(offline, tmp_path, monkeypatch):
    monkeypatch.setenv("GANCOURSE_DATA", str(tmp_path / "mydata"))
    with pytest.raises(DataUnavailableError, match="mydata"):
        mnist()
    with pytest.raises(DataUnavailableError, match="img_align_celeba.zip"):
        celeba()


def test_download_false_and_missing_files_is_an_error_without_network(no_network, tmp_path):
    with pytest.raises(DataUnavailableError, match="missing"):
        mnist(root=tmp_path, download=False)
    with pytest.raises(DataUnavailableError, match="download=False"):
        celeba(root=tmp_path, download=False)


def test_reachability_check_is_short_and_honest():
    # A port nobody listens on refuses at once; a listening socket is reachable. Loopback only.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free_port = probe.getsockname()[1]
    start = time.perf_counter()
    assert real._reachable("127.0.0.1", free_port, timeout=2.0) is False
    assert time.perf_counter() - start < 2.5
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        assert real._reachable("127.0.0.1", server.getsockname()[1], timeout=2.0) is True
    assert real.REACH_TIMEOUT_S <= 5


# --- files on disk load without network -----------------------------------------------------------


@pytest.mark.parametrize("loader, folder", [(mnist, "MNIST"), (fashion_mnist, "FashionMNIST")])
def test_local_idx_files_load_in_unit_range(no_network, tmp_path, loader, folder):
    fake_mnist(tmp_path, folder)
    train = loader(root=tmp_path)
    test = loader(root=tmp_path, train=False)
    assert len(train) == 5 and len(test) == 3
    x, y = train[2]
    assert x.shape == (1, 28, 28) and x.dtype == torch.float32
    assert y == 2
    # Byte 255 -> +1 and 0 -> -1: image 2 has its 6 leftmost columns white.
    assert torch.equal(x[0, :, :6], torch.ones(28, 6))
    assert torch.equal(x[0, :, 6:], -torch.ones(28, 22))
    big, _ = loader(root=tmp_path, image_size=32)[0]
    assert big.shape == (1, 32, 32) and big.min() >= -1 and big.max() <= 1


def test_a_truncated_idx_file_is_named_on_every_call(no_network, tmp_path):
    raw = fake_mnist(tmp_path)
    images = raw / "train-images-idx3-ubyte"
    images.write_bytes(images.read_bytes()[:-100])  # an interrupted copy
    for _ in range(2):
        with pytest.raises(real.DataUnavailableError, match=r"train-images-idx3-ubyte is 3,836 bytes but its header "
                                                            r"says 3,936 \(5x28x28\): truncated"):
            mnist(root=tmp_path)
    (raw / "t10k-labels-idx1-ubyte").write_bytes(b"<html>")
    images.unlink()
    write_idx(images, np.zeros((5, 28, 28), dtype=np.uint8))
    with pytest.raises(real.DataUnavailableError, match="t10k-labels-idx1-ubyte is not an idx file"):
        mnist(root=tmp_path)


def test_local_gz_with_a_web_page_inside_is_named(no_network, tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    (raw / "train-images-idx3-ubyte.gz").write_bytes(QUOTA_PAGE)
    with pytest.raises(DataUnavailableError) as info:
        mnist(root=tmp_path)
    assert "train-images-idx3-ubyte.gz" in str(info.value) and "web page" in str(info.value)


# --- corrupt downloads ------------------------------------------------------------------------------


def test_html_detection(tmp_path):
    page = tmp_path / "img_align_celeba.zip"
    page.write_bytes(b"\n  " + QUOTA_PAGE)
    assert looks_like_html(page)
    lower = tmp_path / "b.txt"
    lower.write_bytes(b"\xef\xbb\xbf<html lang='en'><body>Sign in</body></html>")
    assert looks_like_html(lower)
    zipped = tmp_path / "real.zip"
    with zipfile.ZipFile(zipped, "w") as z:
        z.writestr("000001.jpg", b"\xff\xd8\xff\xe0 not really a jpeg")
    assert not looks_like_html(zipped)
    text = tmp_path / "list_eval_partition.txt"
    text.write_text("000001.jpg 0\n000002.jpg 0\n")
    assert not looks_like_html(text)


def test_celeba_quota_page_saved_as_zip_is_reported_before_any_download(no_network, tmp_path):
    folder = tmp_path / "celeba"
    folder.mkdir()
    (folder / "img_align_celeba.zip").write_bytes(QUOTA_PAGE)
    with pytest.raises(DataUnavailableError) as info:
        celeba(root=tmp_path)
    msg = str(info.value)
    assert str(folder / "img_align_celeba.zip") in msg and "web page" in msg
    for name in ("list_attr_celeba.txt", "list_eval_partition.txt", "identity_CelebA.txt"):
        assert name in msg  # the manual-download list
    assert "GANCOURSE_DATA" in msg and str(folder) in msg


def test_celeba_truncated_zip_is_reported(no_network, tmp_path):
    folder = tmp_path / "celeba"
    folder.mkdir()
    (folder / "img_align_celeba.zip").write_bytes(b"PK\x03\x04" + bytes(100))
    with pytest.raises(DataUnavailableError, match="not a valid zip archive"):
        celeba(root=tmp_path)


def test_failed_download_names_the_bad_file_and_is_tried_once(tmp_path, monkeypatch):
    calls = []

    class FlakyCelebA(real._CelebA):
        def __init__(self, root, **kwargs):
            calls.append(kwargs)
            folder = tmp_path / "celeba"
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "list_attr_celeba.txt").write_bytes(QUOTA_PAGE)  # what gdown saved
            raise RuntimeError("File not found or corrupted.")

    monkeypatch.setattr(real, "_reachable", lambda *a, **k: True)
    monkeypatch.setattr(real, "_CelebA", FlakyCelebA)
    with pytest.raises(DataUnavailableError) as info:
        celeba(root=tmp_path)
    assert len(calls) == 1 and calls[0]["download"] is True
    msg = str(info.value)
    assert "download failed" in msg and str(tmp_path / "celeba" / "list_attr_celeba.txt") in msg
    assert "web page" in msg and "img_align_celeba.zip" in msg


def test_failed_download_without_a_file_reports_the_cause(tmp_path, monkeypatch):
    class NoGdown(real.datasets.MNIST):
        def __init__(self, *a, **k):
            raise RuntimeError("Error downloading train-images-idx3-ubyte.gz: HTTP Error 403: Forbidden")

    monkeypatch.setattr(real, "_reachable", lambda *a, **k: True)
    monkeypatch.setattr(real.datasets, "MNIST", type("MNIST", (NoGdown,), {}))
    with pytest.raises(DataUnavailableError, match="403") as info:
        mnist(root=tmp_path)
    assert "by hand" in str(info.value)


# --- CelebA from files on disk ----------------------------------------------------------------------


def fake_celeba(root, n=3):
    folder = root / "celeba"
    (folder / "img_align_celeba").mkdir(parents=True)
    names = [f"{i + 1:06d}.jpg" for i in range(n)]
    for i, name in enumerate(names):
        Image.new("RGB", (178, 218), (255 * (i % 2), 0, 0)).save(folder / "img_align_celeba" / name)
    attrs = np.where(np.arange(n * 40).reshape(n, 40) % 3 == 0, 1, -1)
    lines = [str(n), " ".join(CELEBA_ATTRIBUTES) + " "]
    lines += [name + " " + " ".join(f"{a:2d}" for a in row) for name, row in zip(names, attrs)]
    (folder / "list_attr_celeba.txt").write_text("\n".join(lines) + "\n")
    (folder / "identity_CelebA.txt").write_text("".join(f"{name} {i}\n" for i, name in enumerate(names)))
    (folder / "list_bbox_celeba.txt").write_text(
        f"{n}\nimage_id x_1 y_1 width height\n" + "".join(f"{name} 1 2 3 4\n" for name in names))
    (folder / "list_landmarks_align_celeba.txt").write_text(
        f"{n}\nlefteye_x lefteye_y righteye_x righteye_y nose_x nose_y leftmouth_x leftmouth_y rightmouth_x "
        "rightmouth_y\n" + "".join(f"{name} " + " ".join(["5"] * 10) + "\n" for name in names))
    (folder / "list_eval_partition.txt").write_text("".join(f"{name} {0 if i < n - 1 else 2}\n"
                                                            for i, name in enumerate(names)))
    return folder, (attrs + 1) // 2


def test_celeba_from_disk_gives_unit_range_images_and_attributes(no_network, tmp_path, monkeypatch):
    folder, attrs = fake_celeba(tmp_path)
    # Our fake annotation files cannot match the real MD5s torchvision checks: accept them here.
    monkeypatch.setattr("torchvision.datasets.celeba.check_integrity", lambda *a, **k: True)
    ds = celeba(root=tmp_path, split="all", image_size=16)
    assert len(ds) == 3
    x, a = ds[1]
    assert x.shape == (3, 16, 16)
    # JPEG moves pure red by a level or two.
    assert torch.allclose(x[0], torch.ones(16, 16), atol=0.03)
    assert torch.allclose(x[1:], -torch.ones(2, 16, 16), atol=0.03)
    assert torch.equal(a, torch.as_tensor(attrs[1]))
    assert len(celeba(root=tmp_path, split="train", image_size=16)) == 2


def test_celeba_zip_on_disk_is_unpacked_and_read(no_network, tmp_path, monkeypatch):
    folder, _ = fake_celeba(tmp_path)
    images = folder / "img_align_celeba"
    with zipfile.ZipFile(folder / "img_align_celeba.zip", "w") as z:
        for p in sorted(images.iterdir()):
            z.write(p, f"img_align_celeba/{p.name}")
    for p in images.iterdir():
        p.unlink()
    images.rmdir()
    monkeypatch.setattr("torchvision.datasets.celeba.check_integrity", lambda *a, **k: True)
    assert len(celeba(root=tmp_path, split="all", image_size=8)) == 3
    assert (images / "000001.jpg").is_file()


def test_celeba_corrupt_annotation_is_named(no_network, tmp_path):
    folder, _ = fake_celeba(tmp_path)
    # The real MD5 check runs: our fake files fail it, and the error must say which.
    with pytest.raises(DataUnavailableError) as info:
        celeba(root=tmp_path)
    assert "wrong MD5" in str(info.value) and "list_attr_celeba.txt" in str(info.value)


@pytest.mark.parametrize("kwargs, match", [(dict(split="val"), "split must be one of"),
                                           (dict(image_size=0), "image_size must be a positive int")])
def test_celeba_rejects_bad_options(no_network, tmp_path, kwargs, match):
    with pytest.raises(ValueError, match=match):
        celeba(root=tmp_path, **kwargs)


def test_mnist_rejects_bad_image_size(no_network, tmp_path):
    with pytest.raises(ValueError, match="image_size"):
        mnist(root=tmp_path, image_size=-4)


# --- image folders ------------------------------------------------------------------------------


def test_image_folder_resizes_centre_crops_and_scales(tmp_path):
    stripes = np.zeros((30, 90, 3), dtype=np.uint8)  # red | green | blue, 30 px each
    stripes[:, :30, 0] = stripes[:, 30:60, 1] = stripes[:, 60:, 2] = 255
    Image.fromarray(stripes).save(tmp_path / "a_stripes.png")
    Image.new("L", (64, 64), 255).save(tmp_path / "b_white.png")
    sub = tmp_path / "more"
    sub.mkdir()
    Image.new("RGBA", (50, 80), (0, 0, 0, 255)).save(sub / "c_black.png")
    (tmp_path / "notes.txt").write_text("not an image")
    ds = image_folder(tmp_path, image_size=16)
    assert len(ds) == 3
    for i in range(3):
        x, label = ds[i]
        assert x.shape == (3, 16, 16) and x.dtype == torch.float32 and label == 0
        assert x.min() >= -1 and x.max() <= 1
    stripes_x, white, black = ds[0][0], ds[1][0], ds[2][0]
    # 30x90 -> 16x48 and the centre crop keeps columns 16..31, the green stripe; the antialiased
    # resize blends its outermost columns with the neighbours.
    assert torch.allclose(stripes_x[1, :, 1:-1], torch.ones(16, 14), atol=0.02)
    assert torch.allclose(stripes_x[0, :, 1:-1], -torch.ones(16, 14), atol=0.02)
    assert torch.allclose(stripes_x[2, :, 1:-1], -torch.ones(16, 14), atol=0.02)
    assert torch.equal(white, torch.ones(3, 16, 16)) and torch.equal(black, -torch.ones(3, 16, 16))


def test_image_folder_errors(tmp_path):
    with pytest.raises(DataUnavailableError, match="does not exist"):
        image_folder(tmp_path / "nope")
    with pytest.raises(DataUnavailableError, match="holds no images"):
        image_folder(tmp_path)
    (tmp_path / "readme.md").write_text("# no pictures here")
    with pytest.raises(DataUnavailableError, match="holds no images"):
        image_folder(tmp_path)
    with pytest.raises(ValueError, match="image_size"):
        image_folder(tmp_path, image_size=2.5)
