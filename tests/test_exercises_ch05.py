"""Chapter 5's exercise checks grade both ways: the conditional D and G steps pass, mistakes fail."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from gancourse.exercises._check import ExerciseError
from gancourse.exercises.ch05 import check_conditional_d_step, check_conditional_g_step
from gancourse.training.steps import GANSteps


def _stub(*args, **kwargs):
    raise NotImplementedError()


def _bce(logits, target):
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, target))


# --- the D step -------------------------------------------------------------------------------

def d_step(G, D, opt_d, real, labels, *, detach=True, fake_labels="same", zero=True,
           targets=(1.0, 0.0), scale=1.0, step=True, g_labels="same", terms="both"):
    """The D step, with one thing changed when asked."""
    z = torch.randn(len(real), G.z_dim)
    fake = G(z, labels if g_labels == "same" else torch.zeros_like(labels))
    y_fake = {"same": labels, "shuffled": labels.flip(0), "none": None}[fake_labels]
    real_logits = D(real, labels)
    fake_in = fake.detach() if detach else fake
    fake_logits = D(fake_in) if y_fake is None else D(fake_in, y_fake)
    parts = {"both": _bce(real_logits, targets[0]) + _bce(fake_logits, targets[1]),
             "real": _bce(real_logits, targets[0]), "fake": _bce(fake_logits, targets[1])}
    loss = scale * parts[terms]
    if zero:
        opt_d.zero_grad()
    loss.backward()
    if step:
        opt_d.step()
    return loss


D_MISTAKES = {
    "stub": _stub,
    "fakes scored without labels": lambda *a: d_step(*a, fake_labels="none"),
    "fakes scored with other labels": lambda *a: d_step(*a, fake_labels="shuffled"),
    "G asked for other labels": lambda *a: d_step(*a, g_labels="zeros"),
    "no detach": lambda *a: d_step(*a, detach=False),
    "grads not zeroed": lambda *a: d_step(*a, zero=False),
    "targets swapped": lambda *a: d_step(*a, targets=(0.0, 1.0)),
    "both targets 1": lambda *a: d_step(*a, targets=(1.0, 1.0)),
    "only the real term": lambda *a: d_step(*a, terms="real"),
    "no step": lambda *a: d_step(*a, step=False),
    "returns nothing": lambda *a: d_step(*a) and None,
    "returns a float": lambda *a: d_step(*a).item(),
}


def test_d_step_solution_passes(capsys):
    check_conditional_d_step(d_step)
    assert "conditional_d_step: all checks passed" in capsys.readouterr().out


def test_d_step_with_the_mean_of_the_two_terms_passes():
    check_conditional_d_step(lambda *a: d_step(*a, scale=0.5))


def test_d_step_under_no_grad_and_one_hot_labels_passes():
    def solution(G, D, opt_d, real, labels):
        with torch.no_grad():
            fake = G(torch.randn(len(real), G.z_dim), labels)
        y = F.one_hot(labels, 4).float()
        logits = torch.cat([D(real, y), D(fake, y)])
        target = torch.cat([torch.ones(len(real)), torch.zeros(len(real))])
        loss = 2 * F.binary_cross_entropy_with_logits(logits, target)
        opt_d.zero_grad()
        loss.backward()
        opt_d.step()
        return loss

    check_conditional_d_step(solution)


def test_d_step_on_one_concatenated_batch_passes():
    def solution(G, D, opt_d, real, labels):
        fake = G(torch.randn(len(real), G.z_dim), labels)
        logits = D(torch.cat([real, fake.detach()]), torch.cat([labels, labels]))
        target = torch.cat([torch.ones(len(real)), torch.zeros(len(real))])
        loss = F.binary_cross_entropy_with_logits(logits, target)  # the mean of the two terms
        opt_d.zero_grad()
        loss.backward()
        opt_d.step()
        return loss

    check_conditional_d_step(solution)


def test_d_step_on_one_concatenated_batch_without_detach_fails():
    def solution(G, D, opt_d, real, labels):
        fake = G(torch.randn(len(real), G.z_dim), labels)
        logits = D(torch.cat([real, fake]), torch.cat([labels, labels]))
        target = torch.cat([torch.ones(len(real)), torch.zeros(len(real))])
        loss = F.binary_cross_entropy_with_logits(logits, target)
        opt_d.zero_grad()
        loss.backward()
        opt_d.step()
        return loss

    with pytest.raises(ExerciseError, match="detach"):
        check_conditional_d_step(solution)


@pytest.mark.parametrize("name", D_MISTAKES)
def test_d_step_mistakes_fail(name):
    with pytest.raises(ExerciseError):
        check_conditional_d_step(D_MISTAKES[name])


def test_d_step_names_the_mistakes():
    for kind, words in (({"detach": False}, "detach"), ({"zero": False}, "zero_grad"),
                        ({"fake_labels": "shuffled"}, "same labels"),
                        ({"targets": (0.0, 1.0)}, "swapped")):
        with pytest.raises(ExerciseError, match=words):
            check_conditional_d_step(lambda *a, kind=kind: d_step(*a, **kind))


# --- the G step -------------------------------------------------------------------------------

def g_step(G, D, opt_g, labels, *, d_labels="same", detach=False, zero=True, target=1.0,
           minimax=False, step=True):
    """The G step, with one thing changed when asked."""
    z = torch.randn(len(labels), G.z_dim)
    fake = G(z, labels)
    y = labels if d_labels == "same" else torch.randint(0, 4, labels.shape)
    logits = D(fake.detach() if detach else fake, y)
    loss = -_bce(logits, 0.0) if minimax else _bce(logits, target)
    if zero:
        opt_g.zero_grad()
    loss.backward()
    if step:
        opt_g.step()
    return loss


G_MISTAKES = {
    "stub": _stub,
    "D's labels differ from G's": lambda *a: g_step(*a, d_labels="random"),
    "fakes detached": lambda *a: g_step(*a, detach=True),
    "grads not zeroed": lambda *a: g_step(*a, zero=False),
    "target 0": lambda *a: g_step(*a, target=0.0),
    "minimax loss": lambda *a: g_step(*a, minimax=True),
    "no step": lambda *a: g_step(*a, step=False),
    "returns nothing": lambda *a: g_step(*a) and None,
}


def test_g_step_solution_passes(capsys):
    check_conditional_g_step(g_step)
    assert "conditional_g_step: all checks passed" in capsys.readouterr().out


def test_g_step_with_a_frozen_d_passes():
    def solution(G, D, opt_g, labels):
        D.requires_grad_(False)
        loss = g_step(G, D, opt_g, labels)
        D.requires_grad_(True)
        return loss

    check_conditional_g_step(solution)


@pytest.mark.parametrize("name", G_MISTAKES)
def test_g_step_mistakes_fail(name):
    with pytest.raises(ExerciseError):
        check_conditional_g_step(G_MISTAKES[name])


def test_g_step_names_the_mistakes():
    for kind, words in (({"d_labels": "random"}, "same labels as G"), ({"zero": False}, "zero_grad"),
                        ({"target": 0.0}, "target is 0"), ({"detach": True}, "detached")):
        with pytest.raises(ExerciseError, match=words):
            check_conditional_g_step(lambda *a, kind=kind: g_step(*a, **kind))


# --- the package's own step is refused ---------------------------------------------------------

@pytest.mark.parametrize("check", [check_conditional_d_step, check_conditional_g_step])
def test_the_packages_steps_are_refused(check):
    def via_package(G, D, opt, *batch):
        steps = GANSteps()
        return steps.d_step(G, D, batch[0], (batch[1],), lambda r, f: _bce(r, 1.0) + _bce(f, 0.0)).loss

    with pytest.raises(ExerciseError, match="write it yourself"):
        check(via_package)
    assert GANSteps.__name__ == "GANSteps"  # restored afterwards


def test_the_packages_d_step_agrees_with_the_check():
    def via_package(G, D, opt_d, real, labels):
        d = GANSteps().d_step(G, D, real, (labels,), lambda r, f: _bce(r, 1.0) + _bce(f, 0.0))
        opt_d.zero_grad()
        d.loss.backward()
        opt_d.step()
        return d.loss

    check_conditional_d_step.__wrapped__(via_package)
