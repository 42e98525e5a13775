"""The experiment exercises of chapters 1-8 grade a student's own run: each check passes on a good
artefact and fails, with ExerciseError, on a bad one (both built here in seconds)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from gancourse.data.toy import Gaussian1D, ring
from gancourse.exercises import (
    ExerciseError,
    check_class_accuracy,
    check_clipping_collapse,
    check_code_matches_classes,
    check_discriminator_reaches_optimum,
    check_fid_extrapolation,
    check_judge_confidence,
    check_ring_coverage,
    check_steering,
)
from gancourse.pretrained import load_shipped

# --- Chapter 1: a discriminator trained to D* ---------------------------------------------------

P_DATA, P_G = Gaussian1D(0.0, 1.0), Gaussian1D(2.0, 1.5)


def _optimal_logits(x):
    p, q = P_DATA.pdf(x[:, 0].double().numpy()), P_G.pdf(x[:, 0].double().numpy())
    return torch.from_numpy(np.log(p) - np.log(q))


def test_the_optimal_discriminator_passes(capsys):
    check_discriminator_reaches_optimum(_optimal_logits, P_DATA, P_G)
    assert "all checks passed" in capsys.readouterr().out


def test_a_slightly_off_discriminator_still_passes():
    check_discriminator_reaches_optimum(lambda x: _optimal_logits(x) + 0.05, P_DATA, P_G)


@pytest.mark.parametrize("bad", [
    lambda x: torch.zeros(len(x)),                 # D = 1/2 everywhere: untrained
    lambda x: -_optimal_logits(x),                 # targets swapped: D = 1 - D*
    lambda x: torch.sigmoid(_optimal_logits(x)),   # probabilities passed as logits
    lambda x: torch.zeros(3),                      # wrong shape
])
def test_a_poor_discriminator_fails(bad):
    with pytest.raises(ExerciseError):
        check_discriminator_reaches_optimum(bad, P_DATA, P_G)


# --- Chapter 2: the ring covered ---------------------------------------------------------------

class _RingG(nn.Module):
    """Samples near the ring's centres: all 8 of them, or only the first ``modes``."""

    def __init__(self, modes=8, spread=0.5):
        super().__init__()
        self.z_dim, self.modes, self.spread = 2, modes, spread
        self.centres = ring().centres.float()
        self.sigma = float(ring().sigma)
        self.unused = nn.Linear(1, 1)  # a generator has parameters (generate() reads their device)

    def forward(self, z):
        k = (torch.special.ndtr(z[:, 0]) * self.modes).long().clamp(max=self.modes - 1)
        return self.centres[k] + self.spread * self.sigma * z


def test_a_generator_covering_the_ring_passes(capsys):
    check_ring_coverage(_RingG())
    assert "modes covered: 8 of 8" in capsys.readouterr().out


@pytest.mark.parametrize("bad", [_RingG(modes=3), _RingG(spread=20.0)])
def test_a_collapsed_or_blurred_generator_fails(bad):
    with pytest.raises(ExerciseError):
        check_ring_coverage(bad)


# --- Chapter 3: the judge's confidence ----------------------------------------------------------

def test_the_shipped_dcgan_reaches_the_judges_confidence():
    G, card = load_shipped("dcgan_glyphs")
    check_judge_confidence(G)


def test_an_untrained_dcgan_fails():
    from gancourse.models import DCGANGenerator

    torch.manual_seed(0)
    with pytest.raises(ExerciseError, match="confidence"):
        check_judge_confidence(DCGANGenerator(64, 28, 1, width=16))


# --- Chapter 4: the clipping collapse ------------------------------------------------------------

def _critic(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(2, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 1))


def test_a_collapsed_clipped_critic_passes():
    critic = _critic()
    with torch.no_grad():
        for p in critic.parameters():
            p.copy_(torch.sign(torch.randn_like(p)) * 0.01)  # what long training under clipping leaves
    check_clipping_collapse(critic, 0.01)


def test_a_short_clipped_run_reproduces_it():
    """A critic trained with RMSProp and clipping at 0.01 on two Gaussians piles its weights at +-c."""
    critic, c = _critic(), 0.01
    opt = torch.optim.RMSprop(critic.parameters(), lr=5e-3)
    gen = torch.Generator().manual_seed(0)
    for _ in range(300):
        real, fake = torch.randn(64, 2, generator=gen), torch.randn(64, 2, generator=gen) + 3
        loss = critic(fake).mean() - critic(real).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        with torch.no_grad():
            for p in critic.parameters():
                p.clamp_(-c, c)
    check_clipping_collapse(critic, c)


@pytest.mark.parametrize("case", ["fresh, bound 1", "not clipped", "one-sided"])
def test_an_uncollapsed_critic_fails(case):
    critic = _critic()
    clip = 1.0 if case == "fresh, bound 1" else 0.01
    if case == "one-sided":
        with torch.no_grad():
            for p in critic.parameters():
                p.fill_(0.01)
    with pytest.raises(ExerciseError):
        check_clipping_collapse(critic, clip)


# --- Chapter 5: class accuracy ------------------------------------------------------------------

def test_the_shipped_conditional_gan_passes():
    G, _ = load_shipped("cgan_glyphs")
    check_class_accuracy(G)


def test_an_untrained_conditional_gan_fails():
    from gancourse.models import ConditionalDCGANGenerator

    torch.manual_seed(0)
    with pytest.raises(ExerciseError, match="class asked for"):
        check_class_accuracy(ConditionalDCGANGenerator(64, 10, 28, 1, width=16))


# --- Chapter 6: InfoGAN's categorical code -----------------------------------------------------

def test_the_shipped_infogan_passes():
    G, _ = load_shipped("infogan_glyphs")
    check_code_matches_classes(G)


def test_an_untrained_infogan_fails():
    from gancourse.models import DCGANGenerator

    torch.manual_seed(0)
    with pytest.raises(ExerciseError, match="matches the digits"):
        check_code_matches_classes(DCGANGenerator(13, 28, 1, width=16))


# --- Chapter 7: steering -------------------------------------------------------------------------

def _logits(target_gain, leak, n=64, a=5, seed=0):
    before = torch.randn(n, a, generator=torch.Generator().manual_seed(seed))
    after = before + leak * torch.sign(torch.randn(n, a, generator=torch.Generator().manual_seed(seed + 1)))
    after[:, 2] = before[:, 2] + target_gain
    return before, after


def test_a_clean_steer_passes():
    check_steering(*_logits(2.0, 0.3), target=2)


@pytest.mark.parametrize(("gain", "leak"), [(0.3, 0.0), (2.0, 1.5), (-2.0, 0.0)])
def test_a_weak_or_entangled_steer_fails(gain, leak):
    with pytest.raises(ExerciseError):
        check_steering(*_logits(gain, leak), target=2)


def test_steering_input_errors_are_named():
    before, after = _logits(2.0, 0.0)
    with pytest.raises(ExerciseError, match="same N samples"):
        check_steering(before, after[:10], target=2)
    with pytest.raises(ExerciseError, match="attribute index"):
        check_steering(before, after, target=9)


# --- Chapter 8: FID at infinity ------------------------------------------------------------------

def test_fid_on_a_line_in_one_over_n_passes(capsys):
    ns = [250, 500, 1_000, 2_000]
    fids = [5.0 + 300.0 / n + 0.01 * (-1) ** i for i, n in enumerate(ns)]
    assert math.isclose(check_fid_extrapolation(ns, fids), 5.0, abs_tol=0.05)
    assert "FID at infinity" in capsys.readouterr().out


def test_a_real_measurement_in_features_passes():
    """FID between two samples of one Gaussian in 16 dimensions: its bias is about d(d+1)/(2N)-like."""
    from gancourse.metrics import frechet_distance_features

    rng = np.random.default_rng(0)
    ns = [200, 400, 800, 1_600]
    fids = [np.mean([frechet_distance_features(rng.normal(size=(n, 16)), rng.normal(size=(n, 16)))
                     for _ in range(3)]) for n in ns]
    assert abs(check_fid_extrapolation(ns, fids)) < 0.2


@pytest.mark.parametrize(("ns", "fids"), [
    ([500, 1_000], [6.0, 5.5]),                      # two sizes only
    ([250, 500, 1_000], [5.0, 5.5, 6.0]),            # rising with N
    ([250, 500, 1_000, 2_000], [9.0, 5.0, 8.0, 4.0]),  # not a line in 1/N
    ([250, 500], [5.0, 5.0, 5.0]),                   # lengths differ
])
def test_a_bad_fid_measurement_fails(ns, fids):
    with pytest.raises(ExerciseError):
        check_fid_extrapolation(ns, fids)
