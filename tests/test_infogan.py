"""InfoGAN: the code sampler, D and Q on one body, the MI loss against hand-computed values, its steps in the loop."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from gancourse.losses import (
    categorical_code_loss,
    categorical_mi_lower_bound,
    continuous_code_nll,
    continuous_mi_lower_bound,
    discriminator_loss,
    mutual_information_loss,
    nonsaturating_generator_loss,
)
from gancourse.models import DCGANGenerator, InfoGANDiscriminator, latent_input, sample_latent
from gancourse.training import InfoGANConfig, InfoGANSteps, TrainConfig, frozen, train_gan, train_infogan

pytestmark = pytest.mark.usefixtures("one_thread")

LOG_2PI = math.log(2 * math.pi)


# --- the code sampler -------------------------------------------------------------------------

def test_sample_latent_shapes_and_layout():
    z, c_cat, c_cont = sample_latent(7, 5, 10, 2)
    assert z.shape == (7, 17) and c_cat.shape == (7,) and c_cont.shape == (7, 2)
    assert c_cat.dtype == torch.int64 and z.dtype == torch.float32
    assert torch.equal(z[:, 5:15], torch.eye(10)[c_cat])  # [noise, one_hot(c_cat), c_cont]
    assert torch.equal(z[:, 15:], c_cont)
    assert torch.equal(z, latent_input(z[:, :5], c_cat, c_cont, 10))


def test_sample_latent_distributions():
    n = 40_000
    z, c_cat, c_cont = sample_latent(n, 4, 8, 3, generator=torch.Generator().manual_seed(1))
    # Categorical uniform on 0..7: each frequency 1/8 (standard error 0.0017).
    freq = torch.bincount(c_cat, minlength=8).float() / n
    assert c_cat.min() == 0 and c_cat.max() == 7
    assert (freq - 1 / 8).abs().max() < 0.01
    # U(-1, 1): inside [-1, 1], mean 0, variance 1/3, and a flat histogram (4 bins of 1/4 each).
    assert c_cont.min() >= -1 and c_cont.max() <= 1
    assert c_cont.mean().abs() < 0.01 and (c_cont.var() - 1 / 3).abs() < 0.01
    bins = torch.histc(c_cont, bins=4, min=-1, max=1) / c_cont.numel()
    assert (bins - 0.25).abs().max() < 0.01
    # noise N(0, 1): mean 0, variance 1, P(|x| > 1) = 0.3173.
    noise = z[:, :4]
    assert noise.mean().abs() < 0.02 and (noise.var() - 1).abs() < 0.03
    assert ((noise.abs() > 1).float().mean() - 0.3173).abs() < 0.01


def test_sample_latent_seeded_and_validated():
    a = sample_latent(3, 2, generator=torch.Generator().manual_seed(5))
    b = sample_latent(3, 2, generator=torch.Generator().manual_seed(5))
    assert all(torch.equal(x, y) for x, y in zip(a, b))
    assert sample_latent(3, 2, 4, 0)[2].shape == (3, 0)
    for bad in ({"n": 0}, {"noise_dim": 0}, {"n_categories": 1}, {"n_continuous": -1}):
        args = {"n": 3, "noise_dim": 2, "n_categories": 4, "n_continuous": 1, **bad}
        with pytest.raises(ValueError):
            sample_latent(**args)


# --- D and Q ----------------------------------------------------------------------------------

@pytest.mark.parametrize("size", [28, 32, 64])
def test_infogan_discriminator_shapes(size):
    DQ = InfoGANDiscriminator(10, 2, size, 1, 8)
    out = DQ(torch.randn(3, 1, size, size))
    assert out.logits.shape == (3,) and out.cat_logits.shape == (3, 10)
    assert out.mu.shape == (3, 2) and out.log_std.shape == (3, 2)
    assert torch.equal(DQ.eval().score(torch.zeros(2, 1, size, size)), DQ(torch.zeros(2, 1, size, size)).logits)


def test_d_and_q_share_the_body():
    DQ = InfoGANDiscriminator(4, 1, 28, 1, 8)
    out = DQ(torch.randn(4, 1, 28, 28))
    # Q's loss reaches the body (shared) and Q's head, not D's head.
    categorical_code_loss(out.cat_logits, torch.tensor([0, 1, 2, 3])).backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in DQ.body.parameters())
    assert all(p.grad is not None for p in DQ.q_head.parameters())
    assert all(p.grad is None for p in DQ.d_head.parameters())
    # one body: its parameters are not duplicated anywhere
    assert sum(p.numel() for p in DQ.parameters()) == sum(
        p.numel() for m in (DQ.body, DQ.d_head, DQ.q_head) for p in m.parameters())


# --- the MI loss ------------------------------------------------------------------------------

def test_categorical_loss_by_hand():
    # Uniform logits over K = 4: -log(1/4) = log 4 for any code.
    assert math.isclose(categorical_code_loss(torch.zeros(3, 4), torch.tensor([0, 3, 1])).item(), math.log(4),
                        rel_tol=1e-6)
    # Logits (0, ln 3): p = (1/4, 3/4); codes (1, 0): (-ln 3/4 - ln 1/4) / 2.
    logits = torch.tensor([[0.0, math.log(3)]] * 2)
    want = (-math.log(0.75) - math.log(0.25)) / 2
    assert math.isclose(categorical_code_loss(logits, torch.tensor([1, 0])).item(), want, rel_tol=1e-6)


def test_gaussian_nll_by_hand():
    # c = 1, mu = 0, std = 2: ln 2 + 1/8 + ln(2 pi)/2; c = mu = 0.5, std = 1: ln(2 pi)/2. Summed over codes.
    mu = torch.tensor([[0.0, 0.5]])
    log_std = torch.tensor([[math.log(2), 0.0]])
    c = torch.tensor([[1.0, 0.5]])
    want = math.log(2) + 1 / 8 + LOG_2PI
    assert math.isclose(continuous_code_nll(mu, log_std, c).item(), want, rel_tol=1e-6)


def test_gaussian_nll_matches_torch_distributions():
    gen = torch.Generator().manual_seed(0)
    mu, log_std = torch.randn(16, 3, generator=gen), torch.randn(16, 3, generator=gen) * 0.5
    c = torch.rand(16, 3, generator=gen) * 2 - 1
    want = -torch.distributions.Normal(mu, log_std.exp()).log_prob(c).sum(1).mean()
    assert torch.allclose(continuous_code_nll(mu, log_std, c), want, atol=1e-6)


def test_mutual_information_loss_weights():
    cat_logits, c_cat = torch.zeros(2, 4), torch.tensor([0, 1])
    mu, log_std, c = torch.zeros(2, 2), torch.zeros(2, 2), torch.zeros(2, 2)  # NLL = 2 * ln(2 pi)/2 = ln(2 pi)
    got = mutual_information_loss(cat_logits, c_cat, mu, log_std, c, 1.0, 0.1)
    assert math.isclose(got.item(), math.log(4) + 0.1 * LOG_2PI, rel_tol=1e-6)
    got = mutual_information_loss(cat_logits, c_cat, mu, log_std, c, 0.5, 2.0)
    assert math.isclose(got.item(), 0.5 * math.log(4) + 2.0 * LOG_2PI, rel_tol=1e-6)
    with pytest.raises(ValueError):
        mutual_information_loss(cat_logits, c_cat, mu, log_std, c, -1.0, 0.1)
    with pytest.raises(ValueError):
        continuous_code_nll(mu, log_std, torch.zeros(2, 3))


def test_lower_bounds():
    c_cat = torch.tensor([0, 3, 2, 1])
    # Q certain and right: CE -> 0, the bound reaches H(c) = log K.
    perfect = torch.eye(4)[c_cat] * 50.0
    assert math.isclose(categorical_mi_lower_bound(perfect, c_cat), math.log(4), rel_tol=1e-6)
    # Q uniform: CE = log K, bound 0.
    assert abs(categorical_mi_lower_bound(torch.zeros(4, 4), c_cat)) < 1e-6
    # Continuous: mu = c and std = e^-2: NLL = -2 + ln(2 pi)/2 per code; bound = log 2 + 2 - ln(2 pi)/2 per code.
    c = torch.rand(5, 2) * 2 - 1
    got = continuous_mi_lower_bound(c, torch.full((5, 2), -2.0), c)
    assert math.isclose(got, 2 * (math.log(2) + 2 - LOG_2PI / 2), rel_tol=1e-6)


# --- training ---------------------------------------------------------------------------------

def _pair(noise_dim: int = 4, k: int = 3, m: int = 1) -> tuple[nn.Module, InfoGANDiscriminator]:
    return DCGANGenerator(noise_dim + k + m, 28, 1, 4), InfoGANDiscriminator(k, m, 28, 1, 4)


def test_infogan_steps_update_g_d_and_q():
    torch.manual_seed(0)
    G, DQ = _pair()
    before = {n: p.detach().clone() for n, p in [*G.named_parameters(prefix="G"), *DQ.named_parameters(prefix="DQ")]}
    history = train_gan(G, DQ, torch.rand(8, 1, 28, 28) * 2 - 1, TrainConfig(steps=1, batch_size=8),
                        variant=InfoGANSteps(), progress=False)
    assert set(history.extra) == {"mi_loss", "mi_cat", "mi_cont"}
    assert all(math.isfinite(v[0]) for v in history.to_frame().drop(columns="w_estimate").to_dict("list").values())
    after = dict([*G.named_parameters(prefix="G"), *DQ.named_parameters(prefix="DQ")])
    changed = {n for n in before if not torch.equal(before[n], after[n])}
    for prefix in ("G.", "DQ.body.", "DQ.d_head.", "DQ.q_head."):
        assert any(n.startswith(prefix) for n in changed), prefix
    assert all(p.requires_grad for p in DQ.parameters())  # frozen(DQ) restored


def _infogan_by_hand(G, DQ, data, steps, batch_size, seed, lambda_cat=1.0, lambda_cont=0.1):
    """InfoGAN written out as in Chen et al.'s code: the reference the loop's variant must equal."""
    opt_d = torch.optim.Adam(DQ.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_g = torch.optim.Adam(G.parameters(), lr=1e-3, betas=(0.5, 0.999))
    k, m = DQ.n_categories, DQ.n_continuous
    mi_cat = []
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        order, position = None, 0
        for _ in range(steps):
            if order is None or position + batch_size > len(data):
                order, position = torch.randperm(len(data)), 0
            real = data[order[position:position + batch_size]]
            position += batch_size
            z, c_cat, c_cont = sample_latent(batch_size, G.z_dim - k - m, k, m)
            fake = G(z)
            out_real, out_fake = DQ(real), DQ(fake.detach())
            loss = discriminator_loss(out_real.logits, out_fake.logits) + mutual_information_loss(
                out_fake.cat_logits, c_cat, out_fake.mu, out_fake.log_std, c_cont, lambda_cat, lambda_cont)
            opt_d.zero_grad()
            loss.backward()
            opt_d.step()
            with frozen(DQ):
                out = DQ(fake)
            loss = nonsaturating_generator_loss(out.logits) + mutual_information_loss(
                out.cat_logits, c_cat, out.mu, out.log_std, c_cont, lambda_cat, lambda_cont)
            opt_g.zero_grad()
            loss.backward()
            opt_g.step()
            mi_cat.append(categorical_mi_lower_bound(out.cat_logits, c_cat))
    return mi_cat


def test_infogan_through_the_loop_equals_infogan_written_by_hand():
    data = torch.rand(40, 1, 28, 28) * 2 - 1
    runs = []
    for by_hand in (True, False):
        torch.manual_seed(0)
        G, DQ = _pair()
        if by_hand:
            mi = _infogan_by_hand(G, DQ, data, steps=6, batch_size=16, seed=5)
        else:
            config = TrainConfig(steps=6, batch_size=16, lr_d=2e-4, lr_g=1e-3, seed=5)
            mi = train_gan(G, DQ, data, config, variant=InfoGANSteps(), progress=False).mi_cat
        runs.append((G.state_dict(), DQ.state_dict(), mi))
    (g0, d0, mi0), (g1, d1, mi1) = runs
    assert all(torch.equal(g0[k], g1[k]) for k in g0) and all(torch.equal(d0[k], d1[k]) for k in d0)
    assert mi1 == pytest.approx(mi0, abs=1e-6)


def test_infogan_steps_refuse_a_plain_discriminator():
    with pytest.raises(TypeError, match="InfoGANDiscriminator"):
        train_gan(DCGANGenerator(8, 28, 1, 4), nn.Sequential(nn.Flatten(), nn.Linear(784, 1)),
                  torch.rand(16, 1, 28, 28), TrainConfig(steps=1, batch_size=8), variant=InfoGANSteps(),
                  progress=False)


def test_train_infogan_runs_and_is_reproducible():
    data = torch.rand(32, 1, 28, 28) * 2 - 1
    config = InfoGANConfig(steps=3, batch_size=8, seed=3)
    calls = []
    runs = []
    for _ in range(2):
        torch.manual_seed(0)
        G, DQ = _pair()
        runs.append(train_infogan(G, DQ, data, config, progress=False, every=2,
                                  callback=lambda step, g, dq: calls.append(step)))
    assert runs[0].step == [1, 2, 3] and runs[0].to_frame().shape == (3, 9)  # 6 columns + mi_loss, mi_cat, mi_cont
    assert runs[0].to_frame().equals(runs[1].to_frame())
    assert calls == [0, 2, 3] * 2
    hist = runs[0]
    assert all(m <= math.log(3) + 1e-6 for m in hist.mi_cat)  # never above H(c) = log K


def test_train_infogan_checks_sizes():
    G = DCGANGenerator(3, 28, 1, 4)
    DQ = InfoGANDiscriminator(3, 1, 28, 1, 4)
    with pytest.raises(ValueError, match="noise_dim"):
        train_infogan(G, DQ, torch.rand(16, 1, 28, 28), InfoGANConfig(steps=1, batch_size=8), progress=False)
    with pytest.raises(ValueError):
        InfoGANConfig(lambda_cont=-0.1)


def test_an_infogan_run_resumes_exactly_from_its_checkpoint(tmp_path):
    # The variant gets the loop's checkpoints for free: 4 steps straight equal 2 steps, a save, and 2 more.
    data = torch.rand(40, 1, 28, 28) * 2 - 1
    runs = []
    for split in (False, True):
        torch.manual_seed(0)
        G, DQ = _pair()
        path = tmp_path / f"run{split}.safetensors"
        if split:
            train_gan(G, DQ, data, TrainConfig(steps=2, batch_size=8), variant=InfoGANSteps(), checkpoint=path,
                      progress=False)
            torch.manual_seed(123)  # a fresh process: whatever state, the checkpoint restores it
            G, DQ = _pair()
        history = train_gan(G, DQ, data, TrainConfig(steps=4, batch_size=8), variant=InfoGANSteps(), checkpoint=path,
                            resume=split, progress=False)
        runs.append((G.state_dict(), history))
    (g0, h0), (g1, h1) = runs
    assert all(torch.equal(g0[k], g1[k]) for k in g0)
    assert h0.mi_cat == h1.mi_cat and h0.to_frame().equals(h1.to_frame())
