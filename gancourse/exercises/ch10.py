"""Checks for the exercises of Chapter 10: the cycle and identity losses, the image pool, PSNR, the pixel
shuffle, InfoNCE.

Every expected value is a closed form: translators that are simple formulas have known round trips
and known identity errors; the pool's answer is the CycleGAN rule replayed with the same seeded
draws; PSNR of images with a known mean squared error is 10 log10(range² / MSE). Reference
solutions, with the names and signatures the checks call (``import torch``):

    def cycle_identity_loss(G_ab, G_ba, a, b, lambda_cyc=10.0, lambda_id=0.5):
        ### BEGIN SOLUTION
        cycle = (a - G_ba(G_ab(a))).abs().mean() + (b - G_ab(G_ba(b))).abs().mean()
        identity = (b - G_ab(b)).abs().mean() + (a - G_ba(a)).abs().mean()
        return lambda_cyc * cycle + lambda_id * lambda_cyc * identity
        ### END SOLUTION

    def query_pool(stored, images, size, generator):
        ### BEGIN SOLUTION
        out = []
        for image in images:
            if len(stored) < size:
                stored.append(image.clone())
                out.append(image)
            elif torch.rand((), generator=generator).item() < 0.5:
                out.append(image)
            else:
                slot = int(torch.randint(size, (), generator=generator))
                out.append(stored[slot])
                stored[slot] = image.clone()
        return torch.stack(out)
        ### END SOLUTION

    def psnr(a, b, data_range):
        ### BEGIN SOLUTION
        mse = (a - b).pow(2).flatten(1).mean(dim=1)
        return 10 * torch.log10(data_range ** 2 / mse)
        ### END SOLUTION

    def pixel_shuffle(x, r):
        ### BEGIN SOLUTION
        n, c, h, w = x.shape
        out = x.reshape(n, c // (r * r), r, r, h, w).permute(0, 1, 4, 2, 5, 3)
        return out.reshape(n, c // (r * r), h * r, w * r)
        ### END SOLUTION

    def info_nce_loss(image_embeddings, text_embeddings, temperature):
        ### BEGIN SOLUTION
        logits = image_embeddings @ text_embeddings.T / temperature
        target = torch.arange(len(logits))
        return (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target)) / 2
        ### END SOLUTION

The package's versions: ``gancourse.losses.info_nce`` (on logits), ``gancourse.training.CycleGANSteps`` (its G step), ``gancourse.training.ImagePool``
``gancourse.metrics.psnr`` and ``torch.nn.PixelShuffle`` (in ``gancourse.models.SubPixelUpsampler``).
"""

from __future__ import annotations

import math
import unittest.mock
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F

from gancourse.exercises._check import ExerciseError, call_student, expect, passed

__all__ = ["check_cycle_identity_loss", "check_query_pool", "check_psnr", "check_pixel_shuffle", "check_info_nce"]


def _number(got: Any, name: str) -> float:
    expect(got is not None, f"{name} returned None: did you forget `return`?")
    expect(isinstance(got, torch.Tensor) and got.numel() == 1,
           f"{name} must return one number as a tensor, got {type(got).__name__} {tuple(getattr(got, 'shape', ()))}")
    return got.item()


def check_cycle_identity_loss(fn: Callable[..., Any]) -> None:
    """Check cycle_identity_loss: lambda_cyc (both cycles' L1) + lambda_id lambda_cyc (both identities' L1)."""
    name = "cycle_identity_loss"
    a = torch.tensor([[[[1.0, -1.0], [0.5, 0.0]]]])
    b = torch.tensor([[[[0.3, 0.7], [-0.2, 0.9]]]])

    def G_ab(x: torch.Tensor) -> torch.Tensor:  # two maps that do not commute: the direction of a trip matters
        return x * x - 0.5

    def G_ba(x: torch.Tensor) -> torch.Tensor:
        return 0.5 * x + 0.1

    def l1(x: torch.Tensor, y: torch.Tensor) -> float:
        return (x - y).abs().mean().item()

    def l2(x: torch.Tensor, y: torch.Tensor) -> float:
        return (x - y).pow(2).mean().item()

    cyc = l1(a, G_ba(G_ab(a))) + l1(b, G_ab(G_ba(b)))
    idt = l1(b, G_ab(b)) + l1(a, G_ba(a))
    want = 10 * cyc + 5 * idt
    mistakes = {
        10 * (l2(a, G_ba(G_ab(a))) + l2(b, G_ab(G_ba(b)))) + 5 * (l2(b, G_ab(b)) + l2(a, G_ba(a))):
            "you squared the errors; CycleGAN's cycle and identity losses are mean ABSOLUTE errors (L1)",
        10 * cyc + 0.5 * idt: "the identity weight is lambda_id TIMES lambda_cyc (0.5 x 10 = 5), not lambda_id alone",
        10 * cyc + 5 * (l1(b, G_ba(b)) + l1(a, G_ab(a))):
            "the identity terms feed each translator its OWN target domain: G_ab(b) should stay b, G_ba(a) stay a",
        10 * l1(a, G_ba(G_ab(a))) + 5 * idt: "the cycle B -> A -> B is missing: both round trips count",
        10 * l1(b, G_ab(G_ba(b))) + 5 * idt: "the cycle A -> B -> A is missing: both round trips count",
        10 * cyc: "the identity terms are missing",
        10 * (l1(a, G_ab(G_ba(a))) + l1(b, G_ba(G_ab(b)))) + 5 * idt:
            "the round trips go the wrong way: A -> B -> A is G_ba(G_ab(a))",
        10 * 4 * cyc + 5 * 4 * idt: "you summed over the pixels; take the mean absolute error",
    }
    got = _number(call_student(fn, G_ab, G_ba, a.clone(), b.clone(), 10.0, 0.5), name)
    for wrong, why in mistakes.items():
        if abs(got - wrong) < 1e-5 and abs(wrong - want) > 1e-5:
            raise ExerciseError(f"{name}: expected {want:.4f}, got {got:.4f}: {why}")
    expect(abs(got - want) < 1e-5, f"{name}: with G_ab(x) = x² - 0.5, G_ba(x) = x / 2 + 0.1 and lambdas (10, 0.5) the loss "
                                   f"is 10 x {cyc:.4f} (cycles) + 5 x {idt:.4f} (identities) = {want:.4f}, got {got:.4f}")
    got = _number(call_student(fn, G_ab, G_ba, a.clone(), b.clone(), 1.0, 0.0), name)
    expect(abs(got - cyc) < 1e-5, f"{name}: with lambda_cyc = 1 and lambda_id = 0 the loss is the two cycle L1s, "
                                  f"{cyc:.4f}, got {got:.4f}: use the lambdas you are given")
    passed(name)


def _replay(images: torch.Tensor, size: int, seed: int, stored: list[torch.Tensor]) -> torch.Tensor:
    """The CycleGAN rule with the draws of a generator seeded ``seed``."""
    gen, out = torch.Generator().manual_seed(seed), []
    for image in images:
        if len(stored) < size:
            stored.append(image.clone())
            out.append(image)
        elif torch.rand((), generator=gen).item() < 0.5:
            out.append(image)
        else:
            slot = int(torch.randint(size, (), generator=gen))
            out.append(stored[slot])
            stored[slot] = image.clone()
    return torch.stack(out)


def check_query_pool(fn: Callable[..., Any]) -> None:
    """Check query_pool(stored, images, size, generator) against the CycleGAN rule with the same draws."""
    name = "query_pool"
    images = torch.arange(1.0, 41.0).view(40, 1, 1, 1)  # image i holds the value i: easy to follow
    stored: list[torch.Tensor] = []
    got = call_student(fn, stored, images.clone(), 5, torch.Generator().manual_seed(3))
    expect(isinstance(got, torch.Tensor) and got.shape == images.shape,
           f"{name} must return a batch of the images' shape {tuple(images.shape)}, got "
           f"{type(got).__name__} {tuple(getattr(got, 'shape', ()))}")
    expect(torch.equal(got[:5], images[:5]),
           f"{name}: while the pool is not full every image is returned as it is (the first 5 here), got "
           f"{got[:5].flatten().tolist()}")
    expect(len(stored) == 5, f"{name}: the pool must hold `size` = 5 images once full (append while filling, "
                             f"then only replace), it holds {len(stored)}")
    values = set(got.flatten().tolist())
    expect(values <= set(images.flatten().tolist()), f"{name}: return only images that were given to the pool")
    new = (got == images).flatten().float().mean().item()
    expect(new < 0.95, f"{name}: once full, an image is swapped for a stored one half of the time; you returned "
                       "nearly every new image")
    expect(new > 0.3, f"{name}: once full, half of the images are returned as they are; you returned only "
                      f"{new:.0%} of them")
    want_stored: list[torch.Tensor] = []
    want = _replay(images, 5, 3, want_stored)
    if not torch.equal(got, want):
        old_only: list[torch.Tensor] = []
        gen, out = torch.Generator().manual_seed(3), []
        for image in images:  # the mistake of handing on a stored image without storing the new one
            if len(old_only) < 5:
                old_only.append(image.clone())
                out.append(image)
            elif torch.rand((), generator=gen).item() < 0.5:
                out.append(image)
            else:
                out.append(old_only[int(torch.randint(5, (), generator=gen))])
        if torch.equal(got, torch.stack(out)):
            raise ExerciseError(f"{name}: when you hand on a stored image, put the new image in its slot")
        raise ExerciseError(f"{name}: the answer differs from the CycleGAN rule with the same draws: once the pool is "
                            "full, draw u = torch.rand((), generator=generator) for each image; if u < 0.5 return "
                            "the image, else draw slot = torch.randint(size, (), generator=generator), return "
                            f"stored[slot] and store the image there. Expected {want.flatten().tolist()[:12]}..., "
                            f"got {got.flatten().tolist()[:12]}...")
    expect(all(torch.equal(s, w) for s, w in zip(stored, want_stored)),
           f"{name}: the pool's contents after the call differ from the rule's")
    passed(name)


def check_psnr(fn: Callable[..., Any]) -> None:
    """Check psnr(a, b, data_range): per image 10 log10(range² / MSE), shape (N,)."""
    name = "psnr"
    a = torch.zeros(3, 1, 4, 4)
    b = torch.stack([torch.full((1, 4, 4), v) for v in (0.1, 0.2, 0.05)])
    mse = torch.tensor([0.01, 0.04, 0.0025], dtype=torch.float64)
    want = 10 * torch.log10(4 / mse)  # data_range 2: images in [-1, 1]
    got = call_student(fn, a.clone(), b.clone(), 2.0)
    expect(got is not None, f"{name} returned None: did you forget `return`?")
    expect(isinstance(got, torch.Tensor), f"{name} must return a tensor, got {type(got).__name__}")
    if got.numel() == 1:
        raise ExerciseError(f"{name}: return one PSNR PER IMAGE (shape (N,)), not one number for the batch: take "
                            "the mean squared error over each image's pixels only (.flatten(1).mean(dim=1))")
    expect(tuple(got.shape) == (3,), f"{name} must return shape (3,) for 3 images, got {tuple(got.shape)}")
    got = got.double()
    mistakes = [(10 * torch.log10(2 / mse), "use the SQUARED range: 10 log10(range² / MSE)"),
                (20 * torch.log10(4 / mse), ("10 log10 of a ratio of squares (or 20 log10 of range / RMSE), "
                                             "not 20 log10(range² / MSE)")),
                (10 * torch.log(4 / mse), "decibels use log10, not the natural log"),
                (10 * torch.log10(4 / mse.sqrt()), "divide by the mean SQUARED error, not its root")]
    for wrong, why in mistakes:
        if torch.allclose(got, wrong, atol=1e-3):
            raise ExerciseError(f"{name}: expected {want.tolist()}, got {got.tolist()}: {why}")
    expect(torch.allclose(got, want, atol=1e-3),
           f"{name}: images 0.1, 0.2 and 0.05 away from zero everywhere have MSE {mse.tolist()}; with range 2 the "
           f"PSNRs are {[round(v, 3) for v in want.tolist()]} dB, got {got.tolist()}")
    one = call_student(fn, a[:1].clone(), b[:1].clone(), 1.0)
    expect(isinstance(one, torch.Tensor) and abs(float(one.flatten()[0]) - 20.0) < 1e-3,
           f"{name}: with data_range 1 and MSE 0.01 the PSNR is 10 log10(1 / 0.01) = 20 dB: use the data_range "
           "you are given")
    expect(not math.isfinite(float(call_student(fn, a[:1].clone(), a[:1].clone(), 2.0).flatten()[0])),
           f"{name}: identical images have MSE 0 and an infinite PSNR")
    passed(name)


def check_pixel_shuffle(fn: Callable[..., Any]) -> None:
    """Check pixel_shuffle(x, r): channel c r² + i r + j of x lands at offset (i, j) of channel c's r x r blocks."""
    name = "pixel_shuffle"
    n, c, r, h, w = 2, 2, 3, 2, 4
    x = torch.arange(float(n * c * r * r * h * w)).view(n, c * r * r, h, w)
    got = call_student(fn, x.clone(), r)
    expect(got is not None, f"{name} returned None: did you forget `return`?")
    expect(isinstance(got, torch.Tensor) and tuple(got.shape) == (n, c, h * r, w * r),
           f"{name}: (N, C r², H, W) = {tuple(x.shape)} with r = {r} becomes (N, C, H r, W r) = "
           f"{(n, c, h * r, w * r)}, got {tuple(getattr(got, 'shape', ()))}")
    want = torch.empty(n, c, h * r, w * r)
    for ch in range(c):
        for i in range(r):
            for j in range(r):
                want[:, ch, i::r, j::r] = x[:, ch * r * r + i * r + j]
    swapped = torch.empty_like(want)
    for ch in range(c):
        for i in range(r):
            for j in range(r):
                swapped[:, ch, j::r, i::r] = x[:, ch * r * r + i * r + j]
    if torch.equal(got, swapped):
        raise ExerciseError(f"{name}: rows and columns of the offsets are swapped: channel c r² + i r + j goes to "
                            "row offset i and column offset j")
    minor = x.view(n, r, r, c, h, w).permute(0, 3, 4, 1, 5, 2).reshape(n, c, h * r, w * r)
    if torch.equal(got, minor):
        raise ExerciseError(f"{name}: the channels are grouped the other way: the r² maps of output channel c "
                            "are the consecutive channels c r², ..., c r² + r² - 1")
    expect(torch.equal(got, want), f"{name}: output pixel (c, i r + di, j r + dj) must be x[c r² + di r + dj, i, j]; "
                                   f"got {got[0, 0, :r, :r].tolist()} in the top-left block of channel 0, expected "
                                   f"{want[0, 0, :r, :r].tolist()}")
    passed(name)


def _refused(*args: Any, **kwargs: Any) -> Any:
    raise ExerciseError("info_nce_loss: write the loss yourself rather than calling gancourse.losses.info_nce")


def check_info_nce(fn: Callable[..., Any]) -> None:
    """Check info_nce_loss(image_embeddings, text_embeddings, temperature): CLIP's symmetric InfoNCE."""
    name = "info_nce_loss"
    gen = torch.Generator().manual_seed(10)
    img = F.normalize(torch.randn(6, 4, generator=gen, dtype=torch.float64), dim=1)
    txt = F.normalize(img + 0.8 * torch.randn(6, 4, generator=gen, dtype=torch.float64), dim=1)
    target = torch.arange(6)

    def ce(logits: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(logits, target)

    logits = img @ txt.T / 0.1
    want = (ce(logits) + ce(logits.T)) / 2
    with unittest.mock.patch("gancourse.losses.info_nce", _refused), \
            unittest.mock.patch("gancourse.losses.contrastive.info_nce", _refused):
        got = _number(call_student(fn, img.clone(), txt.clone(), 0.1), name)
        mistakes = [(ce(logits), "that is one direction only (each image picks its caption); average it with "
                                 "the other (each caption picks its image: the transposed logits)"),
                    (ce(logits.T), "that is one direction only (each caption picks its image); average it with "
                                   "the other (each image picks its caption)"),
                    (ce(logits) + ce(logits.T), "average the two directions, do not add them"),
                    ((ce(img @ txt.T * 0.1) + ce((img @ txt.T * 0.1).T)) / 2,
                     "divide the cosines by the temperature, do not multiply"),
                    ((ce(img @ txt.T) + ce((img @ txt.T).T)) / 2, "the cosines must be divided by the temperature"),
                    (-(logits.diagonal().mean()), "a softmax over the other pairs is what makes it contrastive: "
                                                  "use cross-entropy over each row and each column")]
        for wrong, why in mistakes:
            if abs(got - wrong.item()) < 1e-5 and abs(got - want.item()) > 1e-5:
                raise ExerciseError(f"{name}: expected {want.item():.5f}, got {got:.5f}: {why}")
        expect(abs(got - want.item()) < 1e-5,
               f"{name}: expected {want.item():.5f} for these 6 pairs at temperature 0.1, got {got:.5f}")
        n = 5
        eye = torch.eye(n, dtype=torch.float64)
        perfect = _number(call_student(fn, eye, eye.clone(), 0.05), name)
        closed = math.log(1 + (n - 1) * math.exp(-1 / 0.05))
        expect(abs(perfect - closed) < 1e-6,
               f"{name}: with orthogonal pairs, cosine 1 on the diagonal and 0 elsewhere, each direction's loss is "
               f"log(1 + (N - 1) exp(-1 / T)) = {closed:.3g} for N = 5, T = 0.05; got {perfect:.3g}")
        same = torch.ones(n, 1, dtype=torch.float64)
        chance = _number(call_student(fn, same, same.clone(), 0.5), name)
        expect(abs(chance - math.log(n)) < 1e-6,
               f"{name}: when every image matches every caption equally the loss is log N = {math.log(n):.4f} "
               f"(no pair can be told apart), got {chance:.4f}")
    passed(name)
