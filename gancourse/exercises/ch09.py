"""Checks for the exercises of Chapter 9 (from DCGAN to StyleGAN): AdaIN, demodulation, minibatch stddev, R1.

Every expected value is a closed form: AdaIN's output has exactly the style's mean and (biased)
standard deviation per sample and channel; a demodulated weight has unit L2 norm per sample and
output channel; the minibatch stddev of constant maps is half the gap between two values; the R1
penalty of a linear D(x) = v · x is ||v||² at every x, that of D(x) = ½||x||² the mean of ||x||².
Reference solutions, with the names and signatures the checks call (``import torch``):

    def adain(x, scale, bias, eps=1e-5):
        ### BEGIN SOLUTION
        mean = x.mean(dim=(2, 3), keepdim=True)
        var = x.var(dim=(2, 3), keepdim=True, unbiased=False)  # the instance's own spread
        return scale[:, :, None, None] * (x - mean) / torch.sqrt(var + eps) + bias[:, :, None, None]
        ### END SOLUTION

    def demodulated_weight(weight, styles, eps=1e-8):
        ### BEGIN SOLUTION
        w = weight[None] * styles[:, None, :, None, None]  # (N, out, in, k, k): scale input channel i
        return w / torch.sqrt(w.pow(2).sum(dim=(2, 3, 4), keepdim=True) + eps)  # per output channel
        ### END SOLUTION

    def minibatch_stddev(x, group_size=4):
        ### BEGIN SOLUTION
        n, c, h, w = x.shape
        g = min(group_size, n)
        y = x.reshape(g, n // g, c, h, w)  # group j: samples j, j + n/g, ...
        std = torch.sqrt(y.var(dim=0, unbiased=False) + 1e-8).mean(dim=(1, 2, 3))
        return torch.cat([x, std.repeat(g)[:, None, None, None].expand(n, 1, h, w)], dim=1)
        ### END SOLUTION

    def r1_penalty(D, real):
        ### BEGIN SOLUTION
        x = real.detach().requires_grad_(True)
        (grad,) = torch.autograd.grad(D(x).sum(), x, create_graph=True)
        return grad.pow(2).flatten(1).sum(dim=1).mean()
        ### END SOLUTION

The package's versions: ``gancourse.models.adain``, ``modulated_weight``, ``minibatch_stddev`` and
``gancourse.losses.r1_penalty``.
"""

from __future__ import annotations

from typing import Any, Callable

import torch
from torch import nn

from gancourse.exercises._check import ExerciseError, call_student, expect, passed

__all__ = ["check_adain", "check_demodulated_weight", "check_minibatch_stddev", "check_r1_penalty"]


def _tensor(got: Any, name: str, shape: tuple[int, ...]) -> torch.Tensor:
    expect(got is not None, f"{name} returned None: did you forget `return`?")
    expect(isinstance(got, torch.Tensor), f"{name} must return a tensor, got {type(got).__name__}")
    expect(tuple(got.shape) == shape, f"{name} must return shape {shape}, got {tuple(got.shape)}")
    return got.detach().double()


def _fixed(*shape: int, seed: int) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64).float()


def check_adain(fn: Callable[..., Any]) -> None:
    """Check adain(x, scale, bias): each (sample, channel) map normalised, then scale * x̂ + bias."""
    name = "adain"
    x = _fixed(3, 2, 4, 4, seed=0) * 3 + 1
    scale, bias = torch.tensor([[2.0, 0.5], [1.0, 3.0], [0.2, 1.5]]), torch.tensor([[1.0, -1.0], [0.0, 2.0], [5.0, 0.0]])
    got = _tensor(call_student(fn, x.clone(), scale.clone(), bias.clone()), name, tuple(x.shape))
    mean, std = got.mean(dim=(2, 3)), got.std(dim=(2, 3), unbiased=False)
    if torch.allclose(mean, scale.double(), atol=1e-3) and torch.allclose(std, bias.abs().double(), atol=1e-3):
        raise ExerciseError(f"{name}: scale and bias are swapped: scale multiplies the normalised map, bias is added")
    expect(torch.allclose(mean, bias.double(), atol=1e-3),
           f"{name}: every output map's mean should be its bias {bias.tolist()}, got {mean.tolist()}: normalise "
           "EACH sample's and channel's map on its own (mean over H and W only, dims (2, 3)), then add the bias")
    ratio = (std / scale.double()).mean().item()
    if abs(ratio - (15 / 16) ** 0.5) < 1e-3:
        raise ExerciseError(f"{name}: you divided by the UNBIASED standard deviation (n - 1 in the variance); "
                            "the instance's own spread is the biased one: x.var(..., unbiased=False)")
    x_std = x.double().std(dim=(2, 3), unbiased=False)
    if torch.allclose(std, scale.double() / x_std, rtol=1e-3):
        raise ExerciseError(f"{name}: you divided by the variance, not the standard deviation (its square root)")
    expect(torch.allclose(std, scale.double(), atol=1e-3),
           f"{name}: every output map's (biased) standard deviation should be its scale {scale.tolist()}, got "
           f"{std.tolist()}")
    passed(name)


def check_demodulated_weight(fn: Callable[..., Any]) -> None:
    """Check demodulated_weight(weight, styles): W scaled by s per INPUT channel, unit norm per OUTPUT channel."""
    name = "demodulated_weight"
    weight = _fixed(4, 3, 3, 3, seed=1)
    styles = torch.tensor([[1.0, 2.0, 0.5], [3.0, 0.1, 1.0]])
    got = _tensor(call_student(fn, weight.clone(), styles.clone()), name, (2, 4, 3, 3, 3))
    w = weight.double()[None] * styles.double()[:, None, :, None, None]
    want = w / w.pow(2).sum(dim=(2, 3, 4), keepdim=True).sqrt()
    wrong_axis = w / w.pow(2).sum(dim=(1, 3, 4), keepdim=True).sqrt()
    no_root = w / w.pow(2).sum(dim=(2, 3, 4), keepdim=True)
    unmodulated = weight.double()[None].expand_as(w) / weight.double().pow(2).sum(dim=(1, 2, 3), keepdim=True).sqrt()
    mistakes = [
        (wrong_axis, "you normalised over the OUTPUT channels (dim 1); demodulation makes each output channel's "
                     "weights unit norm, summing over the input channels and the kernel: dims (2, 3, 4)"),
        (no_root, "you divided by the sum of squares; divide by its square root, the L2 norm"),
        (unmodulated, "the style is missing: scale input channel i of the weight by styles[:, i] first"),
    ]
    for value, why in mistakes:
        if torch.allclose(got, value, atol=1e-5):
            raise ExerciseError(f"{name}: {why}")
    norms = got.pow(2).sum(dim=(2, 3, 4))
    expect(torch.allclose(norms, torch.ones_like(norms), atol=1e-4),
           f"{name}: every (sample, output channel) weight must have unit L2 norm over (in, ky, kx), got squared "
           f"norms {norms.tolist()}")
    expect(torch.allclose(got, want, atol=1e-5),
           f"{name}: the norms are 1 but the weights are not W * s / ||W * s||: scale the INPUT channels (dim 2 of "
           "the (N, out, in, k, k) result) by styles[n, i]")
    passed(name)


def check_minibatch_stddev(fn: Callable[..., Any]) -> None:
    """Check minibatch_stddev(x, group_size): one channel more, the group's mean biased stddev."""
    name = "minibatch_stddev"
    # Constant maps: samples (0, 2) hold 1 and 3, samples (1, 3) hold 5 and 5. Group size 2 groups
    # samples j and j + 2; the biased std of {1, 3} is 1, of {5, 5} is 0.
    x = torch.stack([torch.full((2, 3, 3), v) for v in (1.0, 5.0, 3.0, 5.0)])
    got = _tensor(call_student(fn, x.clone(), 2), name, (4, 3, 3, 3))
    expect(torch.equal(got[:, :2], x.double()), f"{name}: the first channels must be x unchanged; append the "
                                                "statistic as ONE extra channel (torch.cat along dim 1)")
    stat = got[:, 2].mean(dim=(1, 2))
    expect(torch.allclose(got[:, 2], stat[:, None, None].expand(4, 3, 3)),
           f"{name}: the extra channel must be constant over each sample's map (one number per group)")
    if torch.allclose(stat, torch.tensor([2 ** 0.5, 0, 2 ** 0.5, 0]).double(), atol=1e-3):
        raise ExerciseError(f"{name}: you used the UNBIASED std (n - 1); the group's spread is the biased one "
                            "(unbiased=False): {1, 3} has std 1")
    if torch.allclose(stat, torch.tensor([2.0, 2.0, 1.0, 1.0]).double(), atol=1e-3):
        raise ExerciseError(f"{name}: you grouped consecutive samples (0, 1), (2, 3); the official layout groups "
                            "sample j with j + N/G, j + 2N/G, ...: x.reshape(G, N // G, C, H, W)")
    expect(torch.allclose(stat, torch.tensor([1.0, 0.0, 1.0, 0.0]).double(), atol=1e-3),
           f"{name}: with group size 2, samples 0 and 2 (values 1 and 3) have std 1, samples 1 and 3 (5 and 5) "
           f"std 0: the channel should read [1, 0, 1, 0], got {stat.tolist()}")
    # Varying features: the std per feature and position over the group, then the mean of those.
    x = _fixed(4, 3, 2, 2, seed=2)
    got = _tensor(call_student(fn, x.clone(), 4), name, (4, 4, 2, 2))
    want = x.double().std(dim=0, unbiased=False).mean()
    if torch.allclose(got[:, 3], torch.full_like(got[:, 3], x.double().std(dim=0, unbiased=False).pow(2).mean().item()),
                      atol=1e-4):
        raise ExerciseError(f"{name}: you averaged the variances; average the standard deviations")
    expect(torch.allclose(got[:, 3], torch.full_like(got[:, 3], want.item()), atol=1e-4),
           f"{name}: one group of 4: take the std over the group for each feature and position, then average "
           f"them: expected {want.item():.4f} everywhere, got {got[:, 3].flatten().tolist()[:4]}...")
    passed(name)


class _Linear(nn.Module):
    """D(x) = v · x (flattened): its gradient is v at every x."""

    def __init__(self, v: torch.Tensor) -> None:
        super().__init__()
        self.v = nn.Parameter(v.clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.flatten(1) @ self.v


def check_r1_penalty(fn: Callable[..., Any]) -> None:
    """Check r1_penalty(D, real) = batch mean of ||∇ₓ D(x)||², differentiable in D's weights."""
    name = "r1_penalty"
    v = torch.tensor([1.0, -2.0, 0.5, 2.0])  # ||v||² = 9.25, ||v|| = 3.041
    D = _Linear(v)
    real = _fixed(5, 1, 2, 2, seed=3)
    got = call_student(fn, D, real.clone())
    expect(isinstance(got, torch.Tensor) and got.numel() == 1,
           f"{name} must return one number as a tensor (the batch mean), got {type(got).__name__} "
           f"{tuple(getattr(got, 'shape', ()))}")
    value = got.item()
    mistakes = {9.25 ** 0.5: "you took the gradient's norm; R1 is its SQUARED norm, ||∇D||²",
                5 * 9.25: "you summed over the batch; take the mean over the samples",
                9.25 / 4: "you averaged over the pixels; sum the squares over each image's pixels, then average "
                          "over the batch",
                9.25 / 2: "the factor gamma / 2 belongs to the caller; return the plain mean of ||∇D||²"}
    for wrong, why in mistakes.items():
        if abs(value - wrong) < 1e-4:
            raise ExerciseError(f"{name}: for D(x) = v · x the penalty is ||v||² = 9.25 at every x, got {value:.4f}: "
                                f"{why}")
    expect(abs(value - 9.25) < 1e-4, f"{name}: for D(x) = v · x with v = {v.tolist()} the gradient is v at every x, "
                                     f"so the penalty is ||v||² = 9.25, got {value:.4f}")
    expect(got.requires_grad, f"{name}: the penalty must be differentiable in D's weights (D's loss includes it): "
                              "call torch.autograd.grad(..., create_graph=True)")
    got.backward()
    expect(D.v.grad is not None and torch.allclose(D.v.grad, 2 * v),
           f"{name}: the gradient of ||v||² in v should be 2 v = {(2 * v).tolist()}, got "
           f"{None if D.v.grad is None else D.v.grad.tolist()}")

    # D(x) = ½ ||x||²: the gradient at x is x itself, so R1 is the mean of ||x_i||² (depends on x).
    def quadratic(x: torch.Tensor) -> torch.Tensor:
        return 0.5 * x.pow(2).flatten(1).sum(dim=1)

    got = call_student(fn, quadratic, real.clone())
    want = real.pow(2).flatten(1).sum(dim=1).mean().item()
    expect(isinstance(got, torch.Tensor) and abs(got.item() - want) < 1e-4,
           f"{name}: for D(x) = ½||x||² the gradient at x is x, so the penalty is the mean of ||x_i||² = {want:.4f}, "
           f"got {getattr(got, 'item', lambda: got)()}: differentiate D's scores with respect to the IMAGES")
    passed(name)
