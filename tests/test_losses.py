"""losses: values at chosen logits and scores against hand computation, stability at extreme logits,
gradients, weight clipping. (The gradient penalty has its own file, test_gradient_penalty.py.)"""

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from gancourse.losses import (
    LOSS_KINDS,
    clip_weights_,
    discriminator_loss,
    generator_loss,
    hinge_discriminator_loss,
    hinge_generator_loss,
    least_squares_discriminator_loss,
    least_squares_generator_loss,
    minimax_generator_loss,
    nonsaturating_generator_loss,
    wasserstein_critic_loss,
    wasserstein_generator_loss,
)

LOG2 = math.log(2.0)


def t(*values, dtype=torch.float32, grad=False):
    return torch.tensor(values, dtype=dtype, requires_grad=grad)


# ---------------------------------------------------------------- values

def test_an_undecided_discriminator_gives_log2_terms():
    # l = 0 means D = 1/2: -log D = -log(1 - D) = log 2.
    assert discriminator_loss(t(0.0, 0.0), t(0.0, 0.0, 0.0)).item() == pytest.approx(2 * LOG2)
    assert minimax_generator_loss(t(0.0)).item() == pytest.approx(-LOG2)
    assert nonsaturating_generator_loss(t(0.0)).item() == pytest.approx(LOG2)


def test_hand_computed_values():
    # D = sigmoid(log 3) = 3/4 and sigmoid(-log 3) = 1/4.
    l3 = math.log(3.0)
    assert discriminator_loss(t(l3), t(-l3)).item() == pytest.approx(-math.log(0.75) - math.log(0.75), rel=1e-6)
    assert minimax_generator_loss(t(l3)).item() == pytest.approx(math.log(0.25), rel=1e-6)
    assert nonsaturating_generator_loss(t(l3)).item() == pytest.approx(-math.log(0.75), rel=1e-6)


def test_each_expectation_is_its_own_mean():
    real, fake = t(0.0, math.log(3.0)), t(0.0, 0.0, math.log(3.0))
    want = (LOG2 - math.log(0.75)) / 2 + (LOG2 + LOG2 - math.log(0.25)) / 3
    assert discriminator_loss(real, fake).item() == pytest.approx(want, rel=1e-6)


@pytest.mark.parametrize("seed", [0, 1])
def test_agree_with_binary_cross_entropy_on_moderate_logits(seed):
    g = torch.Generator().manual_seed(seed)
    real = 3 * torch.randn(64, generator=g, dtype=torch.float64)
    fake = 3 * torch.randn(48, generator=g, dtype=torch.float64)
    dr, df = torch.sigmoid(real), torch.sigmoid(fake)
    bce = F.binary_cross_entropy
    assert discriminator_loss(real, fake).item() == pytest.approx(
        (bce(dr, torch.ones_like(dr)) + bce(df, torch.zeros_like(df))).item(), rel=1e-10)
    assert minimax_generator_loss(fake).item() == pytest.approx(-bce(df, torch.zeros_like(df)).item(), rel=1e-10)
    assert nonsaturating_generator_loss(fake).item() == pytest.approx(bce(df, torch.ones_like(df)).item(), rel=1e-10)


def test_shapes_n_and_n_by_1_give_the_same_loss():
    real, fake = t(0.5, -1.0, 2.0), t(-0.3, 1.2)
    want = discriminator_loss(real, fake).item()
    assert discriminator_loss(real[:, None], fake[:, None]).item() == pytest.approx(want)


# ---------------------------------------------------------------- stability

def test_extreme_logits_give_finite_exact_values():
    # softplus(-100) = log(1 + e^-100) ~ 3.7e-44; softplus(100) = 100 to float precision.
    assert discriminator_loss(t(100.0), t(-100.0)).item() == pytest.approx(0.0, abs=1e-30)
    assert discriminator_loss(t(-100.0), t(100.0)).item() == pytest.approx(200.0, rel=1e-7)
    assert minimax_generator_loss(t(100.0)).item() == pytest.approx(-100.0, rel=1e-7)
    assert nonsaturating_generator_loss(t(-100.0)).item() == pytest.approx(100.0, rel=1e-7)
    for loss in (minimax_generator_loss(t(-1e4, 1e4)), nonsaturating_generator_loss(t(-1e4, 1e4)),
                 discriminator_loss(t(-1e4), t(1e4))):
        assert math.isfinite(loss.item())
    # The naive formula fails where the loss does not: sigmoid(100) is exactly 1 in float32.
    assert torch.log(1 - torch.sigmoid(t(100.0))).item() == -math.inf


def test_gradients_at_extreme_logits():
    real, fake = t(100.0, -100.0, grad=True), t(-100.0, 100.0, grad=True)
    discriminator_loss(real, fake).backward()
    # d/dl softplus(-l) = -sigmoid(-l), d/dl softplus(l) = sigmoid(l), each over its batch size (2).
    assert real.grad.tolist() == pytest.approx([0.0, -0.5], abs=1e-30)
    assert fake.grad.tolist() == pytest.approx([0.0, 0.5], abs=1e-30)
    assert torch.isfinite(real.grad).all() and torch.isfinite(fake.grad).all()


# ---------------------------------------------------------------- saturating vs non-saturating

def test_generator_gradients_match_closed_forms():
    logits = torch.linspace(-20, 20, 81, dtype=torch.float64)
    for loss, closed in ((minimax_generator_loss, lambda l: -torch.sigmoid(l)),
                         # -(1 - sigmoid(l)) written as -sigmoid(-l): the same number without cancellation
                         (nonsaturating_generator_loss, lambda l: -torch.sigmoid(-l))):
        l = logits.clone().requires_grad_(True)
        # A sum of per-sample losses: mean times n.
        (loss(l) * l.numel()).backward()
        assert torch.allclose(l.grad, closed(logits), rtol=1e-10, atol=1e-300)


def test_minimax_saturates_where_nonsaturating_does_not():
    # D confidently rejects the fake: l = -15, D ~ 3e-7.
    l_mm, l_ns = t(-15.0, dtype=torch.float64, grad=True), t(-15.0, dtype=torch.float64, grad=True)
    minimax_generator_loss(l_mm).backward()
    nonsaturating_generator_loss(l_ns).backward()
    assert abs(l_mm.grad.item()) < 1e-6
    assert l_ns.grad.item() == pytest.approx(-1.0, abs=1e-6)
    # Both push the logit up (negative gradient: gradient descent increases l).
    assert l_mm.grad.item() < 0 and l_ns.grad.item() < 0


def test_gradcheck_against_finite_differences():
    real, fake = t(-3.0, 0.2, 4.0, dtype=torch.float64, grad=True), t(1.0, -2.5, dtype=torch.float64, grad=True)
    assert torch.autograd.gradcheck(discriminator_loss, (real, fake))
    assert torch.autograd.gradcheck(minimax_generator_loss, (fake,))
    assert torch.autograd.gradcheck(nonsaturating_generator_loss, (fake,))


# ---------------------------------------------------------------- dispatch and errors

def test_generator_loss_dispatch():
    fake = t(-1.0, 0.5)
    assert generator_loss("minimax", fake).item() == minimax_generator_loss(fake).item()
    assert generator_loss("nonsaturating", fake).item() == nonsaturating_generator_loss(fake).item()
    # -mean(fake) = -(-1 + 0.5) / 2 = 0.25 for both the Wasserstein and the hinge generator loss.
    assert generator_loss("wasserstein", fake).item() == pytest.approx(0.25)
    assert generator_loss("hinge", fake).item() == pytest.approx(0.25)
    with pytest.raises(ValueError, match="minimax"):
        generator_loss("wasserstein-ish", fake)


def test_loss_kinds_pair_each_discriminator_loss_with_its_generator_loss():
    assert LOSS_KINDS == {
        "nonsaturating": (discriminator_loss, nonsaturating_generator_loss),
        "minimax": (discriminator_loss, minimax_generator_loss),
        "wasserstein": (wasserstein_critic_loss, wasserstein_generator_loss),
        "hinge": (hinge_discriminator_loss, hinge_generator_loss),
        "least_squares": (least_squares_discriminator_loss, least_squares_generator_loss),
    }


# ---------------------------------------------------------------- Wasserstein and hinge

def test_wasserstein_losses_by_hand():
    real, fake = t(1.0, 2.0, 3.0), t(0.5, -1.5)
    # mean f(fake) - mean f(real) = -0.5 - 2 = -2.5; the critic's estimate of W1 is its negative.
    assert wasserstein_critic_loss(real, fake).item() == pytest.approx(-2.5)
    assert wasserstein_generator_loss(fake).item() == pytest.approx(0.5)
    # Only the difference of the means matters: shifting every score leaves the critic loss alone.
    assert wasserstein_critic_loss(real + 7, fake + 7).item() == pytest.approx(-2.5)


def test_hinge_losses_by_hand():
    real, fake = t(2.0, 0.5, -1.0), t(-2.0, 0.0, 0.5)
    # relu(1 - real) = (0, 0.5, 2): mean 5/6; relu(1 + fake) = (0, 1, 1.5): mean 5/6.
    assert hinge_discriminator_loss(real, fake).item() == pytest.approx(5 / 3)
    assert hinge_generator_loss(fake).item() == pytest.approx(0.5)
    # Beyond the margins (real >= 1, fake <= -1) the loss is 0.
    assert hinge_discriminator_loss(t(1.0, 4.0), t(-1.0, -9.0)).item() == 0.0


def test_wasserstein_and_hinge_gradients():
    real, fake = t(2.0, 0.5, -1.0, grad=True), t(-2.0, 0.0, dtype=torch.float32, grad=True)
    wasserstein_critic_loss(real, fake).backward()
    assert real.grad.tolist() == pytest.approx([-1 / 3] * 3)
    assert fake.grad.tolist() == pytest.approx([1 / 2] * 2)
    real.grad, fake.grad = None, None
    hinge_discriminator_loss(real, fake).backward()
    # No gradient for scores beyond their margin (real 2.0, fake -2.0); -1/n and +1/n elsewhere.
    assert real.grad.tolist() == pytest.approx([0.0, -1 / 3, -1 / 3])
    assert fake.grad.tolist() == pytest.approx([0.0, 1 / 2])
    fake.grad = None
    wasserstein_generator_loss(fake).backward()
    assert fake.grad.tolist() == pytest.approx([-1 / 2, -1 / 2])


# ---------------------------------------------------------------- weight clipping

def test_clip_weights_bounds_every_parameter_and_keeps_the_rest():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.LeakyReLU(0.2), nn.Linear(8, 1))
    with torch.no_grad():
        net[0].weight.mul_(10)
        net[1].running_var.fill_(3.0)
    before = {name: p.detach().clone() for name, p in net.named_parameters()}
    c = 0.05
    assert clip_weights_(net, c) is None
    for name, p in net.named_parameters():
        old = before[name]
        assert p.min() >= -c and p.max() <= c, name
        inside = old.abs() <= c
        assert torch.equal(p[inside], old[inside]), name  # in range: untouched
        assert torch.equal(p[~inside], c * old[~inside].sign()), name  # out of range: on the bound
    assert (before["0.weight"].abs() > c).any() and (before["0.weight"].abs() <= c).any()  # both cases occur
    assert torch.equal(net[1].running_var, torch.full((8,), 3.0))  # buffers are not parameters


@pytest.mark.parametrize("c", [0, -0.01, float("nan"), float("inf"), True, "0.01"])
def test_clip_weights_rejects_a_bad_bound(c):
    with pytest.raises(ValueError, match="positive finite"):
        clip_weights_(nn.Linear(2, 1), c)


def test_clip_weights_needs_a_module():
    with pytest.raises(TypeError, match="nn.Module"):
        clip_weights_([torch.zeros(2)], 0.01)


@pytest.mark.parametrize("fn", [minimax_generator_loss, nonsaturating_generator_loss,
                                wasserstein_generator_loss, hinge_generator_loss,
                                lambda x: discriminator_loss(x, x), lambda x: wasserstein_critic_loss(x, x),
                                lambda x: hinge_discriminator_loss(x, x)])
def test_bad_logits_are_rejected(fn):
    with pytest.raises(TypeError, match="torch.Tensor"):
        fn([0.0, 1.0])
    with pytest.raises(ValueError, match="empty"):
        fn(torch.tensor([]))
    with pytest.raises(TypeError, match="floating-point"):
        fn(torch.tensor([0, 1]))
