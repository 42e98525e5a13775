"""Checks for the exercises of Chapter 5 (conditional GAN): one D step and one G step.

The checks hand the student's step tiny conditional networks that record every call (the noise
G drew, the labels each network was given, whether the fakes D scored were detached), then redo
the step themselves from the recorded noise on copies of the networks taken before the call, and
compare the networks' new weights and the returned loss. Reference solutions, with the names and
signatures the checks call (the notebook's solution cells):

    import torch
    import torch.nn.functional as F

    def conditional_d_step(G, D, opt_d, real, labels):
        ### BEGIN SOLUTION
        z = torch.randn(len(real), G.z_dim)
        fake = G(z, labels)
        real_logits = D(real, labels)
        fake_logits = D(fake.detach(), labels)
        loss = (F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
                + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits)))
        opt_d.zero_grad()
        loss.backward()
        opt_d.step()
        return loss
        ### END SOLUTION

    def conditional_g_step(G, D, opt_g, labels):
        ### BEGIN SOLUTION
        z = torch.randn(len(labels), G.z_dim)
        fake_logits = D(G(z, labels), labels)
        loss = F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))
        opt_g.zero_grad()
        loss.backward()
        opt_g.step()
        return loss
        ### END SOLUTION

D's loss may also be the mean of its two terms (half the sum), as in some courses; both pass.
The package's own steps (``gancourse.training.steps.GANSteps``) are refused.
"""

from __future__ import annotations

import copy
from typing import Any, Callable

import torch
import torch.nn.functional as F
from torch import nn

from gancourse.exercises._check import (
    ExerciseError,
    call_student,
    expect,
    passed,
    refuses,
    reveal,
)

__all__ = ["check_conditional_d_step", "check_conditional_g_step", "check_class_accuracy"]

Z_DIM, N_CLASSES, N = 3, 4, 6
LR = 0.5  # plain SGD: the new weights are the old ones minus LR times the gradient
GARBAGE = 7.0  # what the check leaves in .grad before the call: a step that does not zero it shows


class _Recorder(nn.Module):
    """A tiny conditional network that records what it was called with."""

    def __init__(self, n_in: int, n_out: int, seed: int) -> None:
        super().__init__()
        torch.manual_seed(seed)
        self.net = nn.Sequential(nn.Linear(n_in + N_CLASSES, 5), nn.Tanh(), nn.Linear(5, n_out))
        self.n_classes = N_CLASSES
        self.calls: list[dict[str, Any]] = []

    def _labels(self, y: Any) -> torch.Tensor:
        what = type(self).__name__[1]
        if y is None:
            raise ExerciseError(f"{what} was called without labels: a conditional {what} takes "
                                f"them too, {what}(x, labels)")
        y = torch.as_tensor(y)
        if y.ndim == 2:  # one-hot (or soft) label vectors are accepted as such
            return y.float()
        return F.one_hot(y.long(), N_CLASSES).float()

    def forward(self, x: torch.Tensor, y: Any = None) -> torch.Tensor:
        self.calls.append({"x": x, "y": None if y is None else torch.as_tensor(y).detach().clone(),
                           "attached": x.grad_fn is not None})
        return self.net(torch.cat([x.flatten(1).float(), self._labels(y)], 1))


class _G(_Recorder):
    def __init__(self) -> None:
        super().__init__(Z_DIM, 4, seed=0)
        self.z_dim = Z_DIM

    def forward(self, z: torch.Tensor, y: Any = None) -> torch.Tensor:
        expect(isinstance(z, torch.Tensor) and z.ndim == 2 and z.shape[1] == Z_DIM,
               f"G takes noise of shape (N, G.z_dim) = (N, {Z_DIM}), got "
               f"{tuple(getattr(z, 'shape', ()))}: draw it with torch.randn(N, G.z_dim)")
        return torch.tanh(super().forward(z, y)).view(-1, 1, 2, 2)


class _D(_Recorder):
    def __init__(self) -> None:
        super().__init__(4, 1, seed=1)

    def forward(self, x: torch.Tensor, y: Any = None) -> torch.Tensor:
        return super().forward(x, y).squeeze(1)


def _same_labels(y: Any, labels: torch.Tensor) -> bool:
    if y is None:
        return False
    if y.ndim == 2:
        y = y.argmax(1)
    return y.shape == labels.shape and torch.equal(y.long(), labels)


def _pieces(calls: list[dict[str, Any]], n: int) -> list[dict[str, Any]]:
    """The calls of D, with one on a batch of 2n (real and fakes concatenated) split in two."""
    out = []
    for c in calls:
        y = c["y"]
        if c["x"].shape[0] == 2 * n and (y is None or y.shape[0] == 2 * n):
            for part in (slice(0, n), slice(n, 2 * n)):
                out.append({"x": c["x"][part], "y": None if y is None else y[part],
                            "attached": c["attached"]})
        else:
            out.append(c)
    return out


def _params(m: nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in m.net.parameters()]


def _close(a: list[torch.Tensor], b: list[torch.Tensor]) -> bool:
    return all(torch.allclose(x, y, rtol=1e-4, atol=1e-6) for x, y in zip(a, b))


def _changed(a: list[torch.Tensor], b: list[torch.Tensor]) -> bool:
    return any(not torch.equal(x, y) for x, y in zip(a, b))


def _fill_grads(m: nn.Module) -> None:
    for p in m.parameters():
        p.grad = torch.full_like(p, GARBAGE)


def _sgd_after(m: nn.Module, loss: torch.Tensor, keep_garbage: bool = False) -> list[torch.Tensor]:
    """The weights of ``m`` after one SGD step on ``loss`` (optionally on top of GARBAGE grads)."""
    grads = torch.autograd.grad(loss, list(m.net.parameters()), retain_graph=True)
    return [p.detach() - LR * (g + (GARBAGE if keep_garbage else 0.0))
            for p, g in zip(m.net.parameters(), grads)]


def _loss_value(result: Any, fname: str) -> float:
    expect(result is not None, f"{fname} returned None: return the loss (a tensor) at the end")
    expect(isinstance(result, torch.Tensor) and result.numel() == 1,
           f"{fname} must return the loss, a one-number tensor, got "
           f"{type(result).__name__}{tuple(getattr(result, 'shape', ()))}")
    return float(result.detach())


def _bce(logits: torch.Tensor, target: float) -> torch.Tensor:
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, target))


def _batch() -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(5)
    real = torch.rand(N, 1, 2, 2, generator=gen) * 2 - 1
    return real, torch.tensor([0, 3, 1, 3, 2, 0])


@refuses("gancourse.training.steps.GANSteps")
def check_conditional_d_step(fn: Callable[..., Any]) -> None:
    """Check conditional_d_step(G, D, opt_d, real, labels): one step of D on real and fake pairs."""
    name = "conditional_d_step"
    real, labels = _batch()
    G, D = _G(), _D()
    G0, D0 = copy.deepcopy(G), copy.deepcopy(D)
    g_before, d_before = _params(G), _params(D)
    _fill_grads(D)
    opt_d = torch.optim.SGD(D.parameters(), lr=LR)
    got = _loss_value(call_student(fn, G, D, opt_d, real, labels), name)

    expect(len(G.calls) >= 1, f"{name} never called G: draw z with torch.randn(N, G.z_dim) and "
                              "make the fakes with G(z, labels)")
    expect(len(G.calls) == 1, f"{name} called G {len(G.calls)} times: draw ONE fake batch")
    z = G.calls[0]["x"].detach()
    expect(z.shape[0] == N, f"{name}: G drew {z.shape[0]} fakes for a batch of {N} real images: "
                            "draw as many as there are real images, len(real)")
    expect(_same_labels(G.calls[0]["y"], labels),
           f"{name}: G was not asked for the batch's labels; make the fakes with G(z, labels) so "
           "that the fake pairs have the real pairs' class mix")
    real_calls, fake_calls = [], []
    for c in _pieces(D.calls, N):
        is_real = c["x"].shape == real.shape and torch.equal(c["x"].detach(), real)
        (real_calls if is_real else fake_calls).append(c)
    expect(len(real_calls) >= 1, f"{name}: D never scored the real batch: D(real, labels)")
    expect(len(fake_calls) >= 1, f"{name}: D never scored the fakes: D(fake.detach(), labels)")
    expect(all(_same_labels(c["y"], labels) for c in real_calls),
           f"{name}: D scored the real images with labels other than theirs: D(real, labels)")
    expect(all(_same_labels(c["y"], labels) for c in fake_calls),
           f"{name}: D scored the fakes with labels other than the ones G drew them for: a fake "
           "pair is (G(z, y), y), so pass the same labels, D(fake.detach(), labels)")

    g_grads = [p.grad for p in G.parameters() if p.grad is not None and p.grad.abs().sum() > 0]
    if g_grads or any(c["attached"] for c in fake_calls):
        raise ExerciseError(f"{name}: the fakes D scored were still attached to G, so G's weights "
                            "got gradients from D's loss: score fake.detach() (or draw the fakes "
                            "under torch.no_grad()); this step trains D only")
    expect(not _changed(g_before, _params(G)), f"{name} changed G's weights: step D only")
    d_after = _params(D)
    expect(_changed(d_before, d_after), f"{name} left D's weights unchanged: call loss.backward() "
                                        "and then opt_d.step()")

    # The reference step, from the recorded noise, on copies of the networks taken before the call.
    with torch.no_grad():
        fake = G0(z, labels)
    real_logits, fake_logits = D0(real, labels), D0(fake, labels)
    terms = {"sum": _bce(real_logits, 1.0) + _bce(fake_logits, 0.0)}
    terms["mean"] = terms["sum"] / 2
    for key, loss in terms.items():
        if abs(got - loss.item()) <= 1e-4 * max(1.0, abs(loss.item())) and _close(
                d_after, _sgd_after(D0, loss)):
            passed(name)
            return
    loss = terms["sum"]
    want = reveal(f" ({loss.item():.4f})")
    swapped = _bce(real_logits, 0.0) + _bce(fake_logits, 1.0)
    if any(abs(got - v) < 1e-4 * max(1.0, abs(v)) for v in (swapped.item(), swapped.item() / 2)):
        raise ExerciseError(f"{name}: the targets are swapped: D learns to say 1 (real) for the real "
                            "images and 0 (fake) for the fakes")
    for key, ref in terms.items():
        if _close(d_after, _sgd_after(D0, ref, keep_garbage=True)):
            raise ExerciseError(f"{name}: D's step included the gradients left in .grad before "
                                "the call: call opt_d.zero_grad() before loss.backward()")
    one_sided = {_bce(real_logits, 1.0).item(): "the real images", _bce(fake_logits, 0.0).item():
                 "the fakes"}
    for value, which in one_sided.items():
        if abs(got - value) < 1e-4 * max(1.0, abs(value)):
            raise ExerciseError(f"{name}: the loss holds only the term of {which}: D's loss is "
                                "BCE(D(real, y), 1) + BCE(D(fake, y), 0)")
    expect(any(abs(got - t.item()) <= 1e-4 * max(1.0, abs(t.item())) for t in terms.values()),
           f"{name}: the loss you returned, {got:.4f}, is not D's loss on these pairs{want}: "
           "BCE(D(real, y), 1) + BCE(D(fake, y), 0), from the logits")
    raise ExerciseError(f"{name}: the loss is right, but D's new weights are not those of one "
                        "step of opt_d on it: zero the gradients, backward the loss you return, "
                        "step once")


@refuses("gancourse.training.steps.GANSteps")
def check_conditional_g_step(fn: Callable[..., Any]) -> None:
    """Check conditional_g_step(G, D, opt_g, labels): one step of G to make D call its pairs real."""
    name = "conditional_g_step"
    _, labels = _batch()
    G, D = _G(), _D()
    G0, D0 = copy.deepcopy(G), copy.deepcopy(D)
    d_before = _params(D)
    _fill_grads(G)
    opt_g = torch.optim.SGD(G.parameters(), lr=LR)
    got = _loss_value(call_student(fn, G, D, opt_g, labels), name)

    expect(len(G.calls) == 1, f"{name} called G {len(G.calls)} times: draw ONE fake batch, "
                              "G(z, labels)")
    z, g_labels = G.calls[0]["x"].detach(), G.calls[0]["y"]
    expect(z.shape[0] == N, f"{name}: G drew {z.shape[0]} fakes for {N} labels: one per label")
    expect(_same_labels(g_labels, labels), f"{name}: G was not asked for the labels given: "
                                           "G(z, labels)")
    expect(len(D.calls) >= 1, f"{name} never asked D about the fakes: D(fake, labels)")
    expect(all(_same_labels(c["y"], labels) for c in D.calls),
           f"{name}: D judged the fakes with labels other than the ones G drew them for; G is "
           "rewarded for drawing THAT class, so pass D the same labels as G")
    expect(all(c["attached"] for c in D.calls),
           f"{name}: the fakes D scored were detached from G, so no gradient reaches G: in the G "
           "step, score G(z, labels) itself (no detach(), no torch.no_grad())")
    expect(not _changed(d_before, _params(D)), f"{name} changed D's weights: step G only")

    fake_logits = D0(G0(z, labels), labels)
    loss = _bce(fake_logits, 1.0)
    g_after = _params(G)
    if abs(got - loss.item()) <= 1e-4 * max(1.0, loss.item()) and _close(g_after, _sgd_after(G0, loss)):
        passed(name)
        return
    if abs(got - _bce(fake_logits, 0.0).item()) < 1e-4:
        raise ExerciseError(f"{name}: the target is 0 (fake); G wants D to call its pairs real: "
                            "BCE(D(G(z, y), y), 1)")
    if abs(got + _bce(fake_logits, 0.0).item()) < 1e-4:
        raise ExerciseError(f"{name}: that is the saturating minimax loss, -BCE(D(G(z, y), y), 0); "
                            "use the non-saturating one, BCE(D(G(z, y), y), 1)")
    if _close(g_after, _sgd_after(G0, loss, keep_garbage=True)):
        raise ExerciseError(f"{name}: G's step included the gradients left in .grad before the "
                            "call: call opt_g.zero_grad() before loss.backward()")
    expect(_changed([p.detach() for p in G0.net.parameters()], g_after),
           f"{name} left G's weights unchanged: call loss.backward() and then opt_g.step()")
    expect(abs(got - loss.item()) <= 1e-4 * max(1.0, loss.item()),
           f"{name}: the loss you returned, {got:.4f}, is not G's loss on these pairs"
           f"{reveal(f' ({loss.item():.4f})')}: BCE(D(G(z, y), y), 1), from the logits")
    raise ExerciseError(f"{name}: the loss is right, but G's new weights are not those of one "
                        "step of opt_g on it: zero the gradients, backward the loss, step once")


# -- Experiment: a conditional generator that draws the class asked for ------------------------

def check_class_accuracy(generator: nn.Module, target: float = 0.8, n_per_class: int = 50) -> None:
    """Grade a conditional generator of 28 x 28 glyphs: the share of samples the glyph judge reads
    as the class asked for, ``n_per_class`` per class from a fixed seed."""
    from gancourse.metrics.judges import class_accuracy, glyph_classifier

    name = "class_accuracy"
    expect(isinstance(generator, nn.Module) and getattr(generator, "n_classes", None) == 10,
           f"{name}: pass a conditional generator of the 10 digits (an nn.Module with n_classes = 10 and "
           "z_dim, such as ConditionalDCGANGenerator)")
    accuracy, per_class, _ = class_accuracy(generator, glyph_classifier().model, n_per_class, seed=2024)
    worst = int(per_class.argmin())
    expect(accuracy >= target,
           f"{name}: the judge reads {accuracy:.0%} of your samples as the class asked for (at least "
           f"{target:.0%} asked; the worst class is {worst}, at {per_class[worst]:.0%}): train longer, and "
           "check that D sees the fakes' labels")
    print(f"class accuracy {accuracy:.1%}; worst class {worst} at {per_class[worst]:.0%}")
    passed(name)
