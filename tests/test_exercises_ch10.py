"""Chapter 10's exercise checks grade both ways: solutions pass, stubs and the classic mistakes fail."""

from __future__ import annotations

import pytest
import torch

from gancourse.exercises._check import ExerciseError
from gancourse.exercises.ch10 import (
    check_cycle_identity_loss,
    check_psnr,
    check_query_pool,
)


def _stub(*args, **kwargs):
    raise NotImplementedError()


# --- cycle_identity_loss ---------------------------------------------------------------------

def _loss_with(*, power=1, id_scale=True, swap_identity=False, one_cycle=False, reverse=False, reduce="mean"):
    def fn(G_ab, G_ba, a, b, lambda_cyc=10.0, lambda_id=0.5):
        def err(x, y):
            e = (x - y).abs().pow(power)
            return e.mean() if reduce == "mean" else e.sum()
        if reverse:
            cycle = err(a, G_ab(G_ba(a))) + err(b, G_ba(G_ab(b)))
        else:
            cycle = err(a, G_ba(G_ab(a))) + (0 if one_cycle else err(b, G_ab(G_ba(b))))
        identity = err(b, G_ba(b)) + err(a, G_ab(a)) if swap_identity else err(b, G_ab(b)) + err(a, G_ba(a))
        return lambda_cyc * cycle + lambda_id * (lambda_cyc if id_scale else 1) * identity
    return fn


LOSS_MISTAKES = {
    "stub": _stub,
    "squared errors": _loss_with(power=2),
    "identity weight not times lambda_cyc": _loss_with(id_scale=False),
    "identity fed the wrong domain": _loss_with(swap_identity=True),
    "one cycle only": _loss_with(one_cycle=True),
    "round trips reversed": _loss_with(reverse=True),
    "summed over pixels": _loss_with(reduce="sum"),
    "no identity": lambda G_ab, G_ba, a, b, lc=10.0, li=0.5: _loss_with()(G_ab, G_ba, a, b, lc, 0.0),
    "lambdas ignored": lambda G_ab, G_ba, a, b, lc=10.0, li=0.5: _loss_with()(G_ab, G_ba, a, b),
    "returns nothing": lambda *args: None,
}


def test_cycle_identity_loss_solution_and_the_packages_g_step_pass(capsys):
    check_cycle_identity_loss(_loss_with())
    assert "cycle_identity_loss: all checks passed" in capsys.readouterr().out


@pytest.mark.parametrize("name", LOSS_MISTAKES)
def test_cycle_identity_loss_mistakes_fail(name):
    with pytest.raises(ExerciseError):
        check_cycle_identity_loss(LOSS_MISTAKES[name])


def test_the_wrong_identity_weight_is_named():
    with pytest.raises(ExerciseError, match="TIMES lambda_cyc"):
        check_cycle_identity_loss(LOSS_MISTAKES["identity weight not times lambda_cyc"])


# --- query_pool ------------------------------------------------------------------------------

def _pool_with(*, store_new=True, fill=True, threshold=0.5, swap_first=False):
    def fn(stored, images, size, generator):
        out = []
        for image in images:
            if len(stored) < size:
                stored.append(image.clone())
                out.append(image if fill else torch.zeros_like(image))
                continue
            if swap_first:
                slot = int(torch.randint(size, (), generator=generator))
            u = torch.rand((), generator=generator).item()
            if u < threshold:
                out.append(image)
            else:
                if not swap_first:
                    slot = int(torch.randint(size, (), generator=generator))
                out.append(stored[slot])
                if store_new:
                    stored[slot] = image.clone()
        return torch.stack(out)
    return fn


def _pool_that_grows(stored, images, size, generator):
    for image in images:
        stored.append(image.clone())
    return images


POOL_MISTAKES = {
    "stub": _stub,
    "new image not stored on a swap": _pool_with(store_new=False),
    "filling phase returns something else": _pool_with(fill=False),
    "swaps 90 % of the time": _pool_with(threshold=0.1),
    "draws the slot before the coin": _pool_with(swap_first=True),
    "no pool: returns the images, stores all": _pool_that_grows,
    "returns nothing": lambda *args: None,
}


def test_query_pool_solution_and_the_packages_pool_pass():
    from gancourse.training import ImagePool

    check_query_pool(_pool_with())

    def with_the_package(stored, images, size, generator):
        pool = ImagePool(size, generator)
        pool.images = stored
        return pool.query(images)

    check_query_pool(with_the_package)


@pytest.mark.parametrize("name", POOL_MISTAKES)
def test_query_pool_mistakes_fail(name):
    with pytest.raises(ExerciseError):
        check_query_pool(POOL_MISTAKES[name])


def test_forgetting_to_store_the_new_image_is_named():
    with pytest.raises(ExerciseError, match="in its slot"):
        check_query_pool(POOL_MISTAKES["new image not stored on a swap"])


# --- psnr ------------------------------------------------------------------------------------

def _psnr_with(*, square_range=True, factor=10, log=torch.log10, root=False, per_image=True):
    def fn(a, b, data_range):
        err = (a - b).pow(2)
        mse = err.flatten(1).mean(dim=1) if per_image else err.mean()
        rng = data_range ** 2 if square_range else data_range
        return factor * log(rng / (mse.sqrt() if root else mse))
    return fn


PSNR_MISTAKES = {
    "stub": _stub,
    "range not squared": _psnr_with(square_range=False),
    "20 log10 of range² / MSE": _psnr_with(factor=20),
    "natural log": _psnr_with(log=torch.log),
    "divided by the RMSE": _psnr_with(root=True),
    "one number for the batch": _psnr_with(per_image=False),
    "data range fixed at 2": lambda a, b, data_range: _psnr_with()(a, b, 2.0),
    "returns nothing": lambda a, b, r: None,
}


def test_psnr_solution_and_the_packages_pass():
    from gancourse.metrics import psnr

    check_psnr(_psnr_with())
    check_psnr(psnr)


@pytest.mark.parametrize("name", PSNR_MISTAKES)
def test_psnr_mistakes_fail(name):
    with pytest.raises(ExerciseError):
        check_psnr(PSNR_MISTAKES[name])


def test_a_batch_psnr_is_named():
    with pytest.raises(ExerciseError, match="PER IMAGE"):
        check_psnr(PSNR_MISTAKES["one number for the batch"])


# --- pixel_shuffle ---------------------------------------------------------------------------

def _shuffle_with(order=(0, 1, 4, 2, 5, 3), channel_major=True):
    def fn(x, r):
        n, c, h, w = x.shape
        if channel_major:
            y = x.reshape(n, c // (r * r), r, r, h, w).permute(*order)
        else:
            y = x.reshape(n, r, r, c // (r * r), h, w).permute(0, 3, 4, 1, 5, 2)
        return y.reshape(n, c // (r * r), h * r, w * r)
    return fn


SHUFFLE_MISTAKES = {
    "stub": _stub,
    "offsets swapped": _shuffle_with(order=(0, 1, 4, 3, 5, 2)),
    "channels grouped the other way": _shuffle_with(channel_major=False),
    "no permute": lambda x, r: x.reshape(x.shape[0], x.shape[1] // (r * r), x.shape[2] * r, x.shape[3] * r),
    "returns nothing": lambda x, r: None,
}


def test_pixel_shuffle_solution_and_torchs_pass():
    from gancourse.exercises.ch10 import check_pixel_shuffle

    check_pixel_shuffle(_shuffle_with())
    check_pixel_shuffle(torch.nn.functional.pixel_shuffle)


@pytest.mark.parametrize("name", SHUFFLE_MISTAKES)
def test_pixel_shuffle_mistakes_fail(name):
    from gancourse.exercises.ch10 import check_pixel_shuffle

    with pytest.raises(ExerciseError):
        check_pixel_shuffle(SHUFFLE_MISTAKES[name])


# --- info_nce_loss ---------------------------------------------------------------------------

def _info_nce_with(*, rows=True, cols=True, combine="mean", temperature="divide"):
    import torch.nn.functional as F

    def fn(image_embeddings, text_embeddings, temperature_value):
        cos = image_embeddings @ text_embeddings.T
        logits = {"divide": cos / temperature_value, "multiply": cos * temperature_value, "ignore": cos}[temperature]
        target = torch.arange(len(logits))
        parts = ([F.cross_entropy(logits, target)] if rows else []) + ([F.cross_entropy(logits.T, target)] if cols else [])
        return sum(parts) / (len(parts) if combine == "mean" else 1)
    return fn


def _calls_the_package(image_embeddings, text_embeddings, temperature):
    from gancourse.losses import info_nce
    return info_nce(image_embeddings @ text_embeddings.T / temperature)


INFO_NCE_MISTAKES = {
    "stub": _stub,
    "image to caption only": _info_nce_with(cols=False),
    "caption to image only": _info_nce_with(rows=False),
    "directions added": _info_nce_with(combine="sum"),
    "temperature multiplies": _info_nce_with(temperature="multiply"),
    "temperature ignored": _info_nce_with(temperature="ignore"),
    "diagonal only": lambda i, t, T: -(i * t).sum(dim=1).mean() / T,
    "calls the package's version": _calls_the_package,
    "returns nothing": lambda *args: None,
}


def test_info_nce_solution_passes(capsys):
    from gancourse.exercises.ch10 import check_info_nce

    check_info_nce(_info_nce_with())
    assert "info_nce_loss: all checks passed" in capsys.readouterr().out


@pytest.mark.parametrize("name", INFO_NCE_MISTAKES)
def test_info_nce_mistakes_fail(name):
    from gancourse.exercises.ch10 import check_info_nce

    with pytest.raises(ExerciseError):
        check_info_nce(INFO_NCE_MISTAKES[name])
