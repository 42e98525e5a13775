"""Checks for the exercises of Chapter 4 (WGAN and WGAN-GP), each against closed forms.

The four pieces of a WGAN-GP critic step: the critic's gradient with respect to its input, the
gradient penalty built on it, the critic's loss and the generator's loss. Every expected value is
worked out by hand in a comment. The only random number a student's code draws is the penalty's
alpha, and the checks never depend on its value: they either use critics whose gradient is the
same everywhere, or they recover the alphas from the points the critic was called on.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import torch
from torch import nn

from gancourse.exercises._check import ExerciseError, call_student, expect, passed, refuses

__all__ = [
    "check_critic_gradient",
    "check_gradient_penalty",
    "check_critic_loss",
    "check_wasserstein_generator_loss",
    "check_clipping_collapse",
]


def _number(result: Any, fname: str) -> float:
    """Return the student's one-number result as a float, or raise ExerciseError."""
    expect(result is not None, f"{fname} returned None: did you forget `return`?")
    expect(isinstance(result, torch.Tensor),
           f"{fname} must return a torch tensor (so that it can be backpropagated), got {type(result).__name__}")
    expect(result.numel() == 1, f"{fname} must return one number, got a tensor of shape {tuple(result.shape)}")
    return float(result.detach())


def _close(a: float, b: float, tol: float = 1e-5) -> bool:
    return math.isfinite(a) and abs(a - b) <= tol * max(1.0, abs(b))


class _Linear(nn.Module):
    """The critic f(x) = <W, x> + b for inputs of any shape (N, *W.shape): its gradient is W everywhere."""

    def __init__(self, w: list, b: float = 0.5) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.tensor(w, dtype=torch.float64))
        self.b = nn.Parameter(torch.tensor(b, dtype=torch.float64))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x * self.w).flatten(1).sum(1) + self.b


class _HalfSquare(nn.Module):
    """The critic f(x) = |x|^2 / 2 over the non-batch dimensions: its gradient at x is x itself."""

    def __init__(self) -> None:
        super().__init__()
        self.inputs: list[torch.Tensor] = []  # the inputs it was differentiated at (those requiring grad)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.requires_grad:
            self.inputs.append(x.detach().clone())
        return 0.5 * (x**2).flatten(1).sum(1)


class _Constant(nn.Module):
    """The critic f(x) = 5 that still reads x (0 * x): its gradient is 0 everywhere."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return 0.0 * x.flatten(1).sum(1) + 5.0


def _grads_left(critic: nn.Module) -> bool:
    """True when a parameter of ``critic`` holds a gradient."""
    return any(p.grad is not None for p in critic.parameters())


# --------------------------------------------------------------------------------------------

def check_critic_gradient(fn: Callable[..., Any]) -> None:
    """Check critic_gradient(critic, x): d critic(x) / dx per sample, shaped like x, differentiable."""
    name = "critic_gradient"
    # A linear critic f(x) = 3 x1 - 4 x2 + 0.5: every sample's gradient is (3, -4).
    critic = _Linear([3.0, -4.0])
    x = torch.tensor([[1.0, 2.0], [0.0, -1.0], [5.0, 5.0], [2.0, 0.5]], dtype=torch.float64)
    g = call_student(fn, critic, x)
    expect(isinstance(g, torch.Tensor), f"{name} must return a tensor, got {type(g).__name__}")
    want = torch.tensor([[3.0, -4.0]] * 4, dtype=torch.float64)
    if tuple(g.shape) == (2,):
        raise ExerciseError(f"{name} returned one gradient of shape (2,) for a batch of 4: the penalty needs one "
                            "gradient PER SAMPLE, d f(x_i) / d x_i, shape (4, 2) like x")
    expect(tuple(g.shape) == tuple(x.shape), f"{name} must return a tensor shaped like x, {tuple(x.shape)}, "
                                             f"got {tuple(g.shape)}")
    if torch.allclose(g.detach(), want / 4):
        raise ExerciseError(f"{name}: every gradient is 1/4 of the right one: you differentiated the MEAN of the "
                            "scores. Differentiate their SUM: sample i's score depends only on x_i, so "
                            "d(sum_j f(x_j))/dx_i = d f(x_i)/dx_i")
    expect(torch.allclose(g.detach(), want),
           f"{name}: for the critic f(x) = 3 x1 - 4 x2 + 0.5 every row of the gradient is (3, -4), got {g.tolist()}")
    expect(not _grads_left(critic),
           f"{name} left gradients in the critic's parameters: use torch.autograd.grad(scores.sum(), x, ...), "
           "which returns the gradient without adding it into .grad as backward() does")

    # f(x) = |x|^2 / 2 on images (3, 1, 2, 2): the gradient is x, with x's shape.
    images = torch.arange(12, dtype=torch.float64).reshape(3, 1, 2, 2) / 4 - 1
    g = call_student(fn, _HalfSquare(), images)
    expect(isinstance(g, torch.Tensor) and tuple(g.shape) == (3, 1, 2, 2),
           f"{name}: on images of shape (3, 1, 2, 2) the gradient has that shape too, got "
           f"{tuple(getattr(g, 'shape', ()))}: don't flatten it here")
    expect(torch.allclose(g.detach(), images),
           f"{name}: for f(x) = |x|^2 / 2 the gradient at x is x itself; got a different tensor")

    # The penalty is a function of this gradient and is itself minimised over the critic's
    # parameters, so the gradient must keep its graph: for f(x) = <w, x>, sum_i |grad_i|^2 = N |w|^2,
    # whose derivative in w is 2 N w = (24, -32) with N = 4.
    critic = _Linear([3.0, -4.0])
    g = call_student(fn, critic, x)
    expect(isinstance(g, torch.Tensor) and g.requires_grad,
           f"{name}: the gradient you return has no graph, so a penalty on it cannot train the critic: pass "
           "create_graph=True to torch.autograd.grad")
    (g**2).sum().backward()
    want = torch.tensor([24.0, -32.0], dtype=torch.float64)
    expect(critic.w.grad is not None and torch.allclose(critic.w.grad, want),
           f"{name}: d/dw sum_i |grad_i|^2 should be 2 N w = (24, -32), got "
           f"{None if critic.w.grad is None else critic.w.grad.tolist()}")
    passed(name)


@refuses("gancourse.losses.penalties.gradient_penalty")
def check_gradient_penalty(fn: Callable[..., Any]) -> None:
    """Check gradient_penalty(critic, real, fake): mean over samples of (|grad f(x_hat)|_2 - 1)^2."""
    name = "gradient_penalty"
    gen = torch.Generator().manual_seed(0)
    real = torch.randn(8, 2, generator=gen, dtype=torch.float64)
    fake = torch.randn(8, 2, generator=gen, dtype=torch.float64) + 3.0

    # A critic whose gradient is 0 everywhere: the penalty is (0 - 1)^2 = 1, wherever x_hat lies.
    got = _number(call_student(fn, _Constant(), real, fake), name)
    if _close(got, 8.0):
        raise ExerciseError(f"{name}: with a zero gradient you returned 8 = 8 samples x 1: take the MEAN over the "
                            "samples, not the sum")
    if _close(got, 10.0):
        raise ExerciseError(f"{name}: you returned 10 where the penalty is 1: return the penalty without the "
                            "weight lambda = 10, the critic's loss multiplies it")
    if _close(got, -1.0):
        raise ExerciseError(f"{name}: with a zero gradient you returned -1 = 0 - 1: square it, (|grad| - 1)^2")
    if _close(got, 0.0):
        raise ExerciseError(f"{name}: with a zero gradient you returned 0; WGAN-GP's penalty (|grad| - 1)^2 is 1 "
                            "there: it is two-sided (it also penalises norms below 1) and measures the distance "
                            "of the norm from 1, not the norm itself")
    expect(_close(got, 1.0), f"{name}: a critic with zero gradient everywhere has penalty (0 - 1)^2 = 1, got {got}")

    # A linear critic f(x) = 3 x1 + 4 x2: |grad| = |w|_2 = 5 at every x_hat, so the penalty is (5 - 1)^2 = 16.
    critic = _Linear([3.0, 4.0])
    got = _number(call_student(fn, critic, real, fake), name)
    expect(not _grads_left(critic),
           f"{name} left gradients in the critic's parameters: compute the gradient with torch.autograd.grad, "
           "not backward(), so that only the critic's loss fills .grad")
    mistakes = {
        36.0: "you took the L1 norm |3| + |4| = 7; WGAN-GP penalises the Euclidean (L2) norm, 5",
        4.0: "you forgot to square: the penalty is (|grad| - 1)^2, not |grad| - 1",
        25.0: "you penalised |grad|^2 itself; the penalty is (|grad| - 1)^2, pulling the norm towards 1",
        576.0: "you used the squared norm |grad|^2 = 25 in place of the norm |grad| = 5: (25 - 1)^2",
        128.0: "you summed over the 8 samples; take the mean",
        160.0: "you included the weight lambda = 10; return the penalty alone",
    }
    for value, why in mistakes.items():
        if _close(got, value):
            raise ExerciseError(f"{name}: for f(x) = 3 x1 + 4 x2 the penalty is (5 - 1)^2 = 16, got {got}: {why}")
    expect(_close(got, 16.0), f"{name}: for f(x) = 3 x1 + 4 x2 the penalty is (|(3, 4)| - 1)^2 = 16, got {got}")
    # |w| = 0.5 < 1: the penalty also pushes a too-flat critic up, (0.5 - 1)^2 = 0.25 (a one-sided
    # penalty max(0, |grad| - 1)^2 would say 0).
    got = _number(call_student(fn, _Linear([0.3, 0.4]), real, fake), name)
    expect(_close(got, 0.25), f"{name}: for f(x) = 0.3 x1 + 0.4 x2 the penalty is (0.5 - 1)^2 = 0.25, got {got}"
                              + (": the penalty is two-sided, (|grad| - 1)^2" if _close(got, 0.0) else ""))

    # Images (4, 1, 2, 2) with f(x) = <W, x>: the norm runs over ALL non-batch dimensions,
    # |W|_F = sqrt(1 + 4 + 4 + 16) = 5, so the penalty is 16 again.
    w_img = [[[1.0, 2.0], [2.0, 4.0]]]
    real_img = torch.randn(4, 1, 2, 2, generator=gen, dtype=torch.float64)
    fake_img = torch.randn(4, 1, 2, 2, generator=gen, dtype=torch.float64)
    got = _number(call_student(fn, _Linear(w_img), real_img, fake_img), name)
    expect(_close(got, 16.0),
           f"{name}: on images of shape (4, 1, 2, 2) with f(x) = <W, x>, |W| = 5, the penalty is 16, got {got}: "
           "take the L2 norm over every dimension but the batch, e.g. grad.flatten(1).norm(2, dim=1)")

    # Where the critic is evaluated: x_hat = alpha real + (1 - alpha) fake with ONE alpha per sample,
    # uniform on [0, 1]. With f(x) = |x|^2 / 2 the gradient is x_hat, so the penalty must equal
    # mean((|x_hat| - 1)^2) at the points the critic saw; each of those must lie on its segment.
    n = 512
    real_img = torch.randn(n, 1, 2, 2, generator=gen, dtype=torch.float64)
    fake_img = torch.randn(n, 1, 2, 2, generator=gen, dtype=torch.float64) + 2.0
    critic = _HalfSquare()
    got = _number(call_student(fn, critic, real_img, fake_img), name)
    seen = [x for x in critic.inputs if tuple(x.shape) == (n, 1, 2, 2)]
    expect(len(seen) > 0, f"{name} never differentiated the critic at a batch shaped like real, (n, 1, 2, 2): "
                          "x_hat must require grad (x_hat.requires_grad_(True)) before the critic sees it")
    x_hat = seen[-1]
    d = (real_img - fake_img).flatten(1)
    alpha = ((x_hat - fake_img).flatten(1) * d).sum(1) / (d * d).sum(1)  # the best alpha per sample
    off_segment = ((x_hat - fake_img).flatten(1) - alpha[:, None] * d).abs().max().item()
    if off_segment > 1e-6:
        raise ExerciseError(f"{name}: the critic was called on points that do not lie on the segments between "
                            f"real_i and fake_i (off by up to {off_segment:.3f}): draw ONE alpha per sample, "
                            "shape (N, 1, 1, 1) for images, not one per pixel")
    expect(alpha.min().item() >= -1e-9 and alpha.max().item() <= 1 + 1e-9,
           f"{name}: alpha must lie in [0, 1]; the points you used have alpha from {alpha.min():.3f} to "
           f"{alpha.max():.3f}")
    expect(alpha.std().item() > 0.2,
           f"{name}: every sample used (nearly) the same alpha (std {alpha.std():.3f}): draw a fresh "
           "alpha ~ U(0, 1) for each sample, torch.rand(N, 1, 1, 1)")
    # U(0, 1) has mean 1/2 and standard deviation 1/sqrt(12) = 0.289; 512 draws: 0.013 standard error.
    expect(abs(alpha.mean().item() - 0.5) < 0.08 and abs(alpha.std().item() - 12**-0.5) < 0.05,
           f"{name}: alpha should be uniform on [0, 1] (mean 0.5, std 0.289), got mean {alpha.mean():.3f} and "
           f"std {alpha.std():.3f}")
    want = ((x_hat.flatten(1).norm(dim=1) - 1) ** 2).mean().item()
    expect(_close(got, want, 1e-6), f"{name}: with f(x) = |x|^2 / 2 the gradient at x_hat is x_hat, so the "
                                    f"penalty is mean((|x_hat| - 1)^2) = {want:.6f} at your x_hat, got {got}")

    # The critic is trained on this penalty: for f(x) = <w, x>, d/dw (|w| - 1)^2 = 2 (|w| - 1) w / |w|
    # = 2 * 4 * (0.6, 0.8) = (4.8, 6.4) at w = (3, 4).
    critic = _Linear([3.0, 4.0])
    penalty = call_student(fn, critic, real, fake)
    try:
        penalty.backward()
    except RuntimeError as error:
        raise ExerciseError(f"{name}: the penalty cannot be backpropagated to the critic ({error}): pass "
                            "create_graph=True to torch.autograd.grad") from None
    expect(critic.w.grad is not None
           and torch.allclose(critic.w.grad, torch.tensor([4.8, 6.4], dtype=torch.float64)),
           f"{name}: the penalty's gradient in w should be 2 (|w| - 1) w / |w| = (4.8, 6.4), got "
           f"{None if critic.w.grad is None else critic.w.grad.tolist()}: keep the graph (create_graph=True)")
    passed(name)


def check_critic_loss(fn: Callable[..., Any]) -> None:
    """Check critic_loss(real_scores, fake_scores, gp, gp_weight) = mean f(fake) - mean f(real) + gp_weight * gp."""
    name = "critic_loss"

    def run(real: list[float], fake: list[float], gp: float, weight: float) -> float:
        t = torch.tensor
        return _number(call_student(fn, t(real), t(fake), t(gp), weight), name)

    # One score each: 1 - 2 + 0.1 * 3 = -0.7.
    got = run([2.0], [1.0], 3.0, 0.1)
    if _close(got, 1.3):
        raise ExerciseError(f"{name}: you returned mean f(real) - mean f(fake) + lambda gp = 1.3; the critic "
                            "MINIMISES mean f(fake) - mean f(real) + lambda gp (= -0.7 here): it raises its "
                            "scores on real samples")
    if _close(got, -1.3):
        raise ExerciseError(f"{name}: the penalty enters with a + sign: the critic is penalised, -0.7 here")
    if _close(got, 0.2) or _close(got, 2.9):
        raise ExerciseError(f"{name}: lambda multiplies only the penalty: f(fake) - f(real) + lambda gp = -0.7")
    expect(_close(got, -0.7), f"{name}(real 2, fake 1, gp 3, lambda 0.1) should be 1 - 2 + 0.3 = -0.7, got {got}")

    # Batches: mean real = 2, mean fake = -1 (three and two samples), gp 0.5, lambda 10: -1 - 2 + 5 = 2.
    got = run([1.0, 2.0, 3.0], [-3.0, 1.0], 0.5, 10.0)
    if _close(got, -2 - 6 + 5):
        raise ExerciseError(f"{name}: you summed the scores; take the mean of each batch")
    if _close(got, (-2 - 6) / 5 + 5):
        raise ExerciseError(f"{name}: you took one mean over both batches together; it is a difference of two means")
    expect(_close(got, 2.0), f"{name}(real [1, 2, 3], fake [-3, 1], gp 0.5, lambda 10) should be -1 - 2 + 5 = 2, "
                             f"got {got}")
    expect(_close(run([1.0, 2.0, 3.0], [-3.0, 1.0], 0.5, 0.0), -3.0),
           f"{name}: with lambda = 0 the loss is the WGAN critic's, mean f(fake) - mean f(real) = -3")

    # Gradients: d/d real_i = -1/3, d/d fake_j = +1/2, d/d gp = lambda.
    real = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    fake = torch.tensor([-3.0, 1.0], requires_grad=True)
    gp = torch.tensor(0.5, requires_grad=True)
    out = call_student(fn, real, fake, gp, 10.0)
    expect(isinstance(out, torch.Tensor) and out.requires_grad,
           f"{name} must stay differentiable: build it from torch operations (no .item(), no floats)")
    out.backward()
    ok = (real.grad is not None and fake.grad is not None and gp.grad is not None
          and torch.allclose(real.grad, torch.full((3,), -1 / 3))
          and torch.allclose(fake.grad, torch.full((2,), 1 / 2)) and abs(gp.grad.item() - 10.0) < 1e-5)
    expect(ok, f"{name}: its gradient should be -1/3 per real score, +1/2 per fake score and lambda = 10 for gp")
    passed(name)


@refuses("gancourse.losses.adversarial.wasserstein_generator_loss")
def check_wasserstein_generator_loss(fn: Callable[[torch.Tensor], Any]) -> None:
    """Check wasserstein_generator_loss(fake_scores) = -mean f(G(z)): values and gradients."""
    name = "wasserstein_generator_loss"
    got = _number(call_student(fn, torch.tensor([1.0, 2.0, 3.0])), name)
    if _close(got, 2.0):
        raise ExerciseError(f"{name}: you returned +mean f(G(z)); the generator MINIMISES -mean f(G(z)) (it wants "
                            "the critic to score its samples high)")
    if _close(got, -6.0):
        raise ExerciseError(f"{name}: you summed the scores; take the mean")
    softplus = sum(math.log1p(math.exp(-v)) for v in (1.0, 2.0, 3.0)) / 3
    if _close(got, softplus) or _close(got, -softplus):
        raise ExerciseError(f"{name}: a critic's score is not a logit: no sigmoid, no log, no softplus; the loss is "
                            "-mean f(G(z))")
    expect(_close(got, -2.0), f"{name}([1, 2, 3]) should be -2, got {got}")
    got = _number(call_student(fn, torch.tensor([-500.0, 100.0])), name)
    expect(_close(got, 200.0), f"{name}([-500, 100]) should be 200 (scores are unbounded), got {got}")
    scores = torch.tensor([0.5, -1.0, 4.0, 2.0], requires_grad=True)
    out = call_student(fn, scores)
    expect(isinstance(out, torch.Tensor) and out.requires_grad,
           f"{name} must stay differentiable: build it from torch operations (no .item(), no floats)")
    out.backward()
    expect(scores.grad is not None and torch.allclose(scores.grad, torch.full((4,), -0.25)),
           f"{name}: its gradient is -1/N for each of the N scores (-0.25 here)")
    passed(name)


# -- Experiment: the clipping collapse, reproduced ---------------------------------------------

def check_clipping_collapse(critic: nn.Module, clip: float, min_share: float = 0.5) -> None:
    """Grade a critic trained with weight clipping at ``clip``: most weights must sit at +-clip.

    Only the weight matrices count (not biases); a weight sits at the bound when it is within 1 % of
    ``clip`` from it. Both signs must be there: the collapse piles the weights on the two ends.
    """
    name = "clipping_collapse"
    expect(isinstance(critic, nn.Module), f"{name}: pass the critic itself, an nn.Module")
    expect(isinstance(clip, (int, float)) and clip > 0, f"{name}: clip must be the positive clipping bound c")
    weights = torch.cat([p.detach().flatten() for n, p in critic.named_parameters()
                         if p.ndim >= 2 and "weight" in n] or [torch.zeros(0)]).double()
    expect(weights.numel() > 0, f"{name}: the critic has no weight matrices")
    largest = weights.abs().max().item()
    expect(largest <= clip * (1 + 1e-6),
           f"{name}: a weight of size {largest:.3g} exceeds the bound {clip}: clamp every parameter to "
           "[-c, c] after each critic step (p.data.clamp_(-c, c))")
    at_top = (weights >= clip * 0.99).double().mean().item()
    at_bottom = (weights <= -clip * 0.99).double().mean().item()
    expect(at_top + at_bottom >= min_share,
           f"{name}: {at_top + at_bottom:.0%} of the weights sit at +-{clip} (at least {min_share:.0%} asked): "
           "train the critic longer (more critic steps), or with a smaller clip")
    expect(min(at_top, at_bottom) >= 0.1 * (at_top + at_bottom),
           f"{name}: the weights at the bounds are nearly all on one side ({at_top:.0%} at +c, {at_bottom:.0%} "
           "at -c): is the clamp one-sided?")
    print(f"{at_top + at_bottom:.0%} of the critic's weights sit at +-{clip} "
          f"({at_top:.0%} at +c, {at_bottom:.0%} at -c)")
    passed(name)
