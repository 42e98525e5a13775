"""Steering z: the update, the penalised score and whole trajectories against closed forms (G = identity,
a linear classifier), the frozen networks, the mean-difference direction."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from gancourse.control import (
    mean_difference_direction,
    noise_update,
    score_with_penalty,
    steer,
    target_gradient,
)

pytestmark = pytest.mark.usefixtures("one_thread")

# A linear classifier over 3 attributes on z in R^4: logits = W z + b.
W = torch.tensor([[1.0, 2.0, 0.0, -1.0],   # the target, attribute 0
                  [0.5, 1.0, 0.0, 0.0],    # entangled with it (shares directions)
                  [0.0, 0.0, 3.0, 0.0]])   # independent of it
B = torch.tensor([0.5, -1.0, 0.0])


def _linear() -> nn.Linear:
    layer = nn.Linear(4, 3)
    with torch.no_grad():
        layer.weight.copy_(W)
        layer.bias.copy_(B)
    return layer


def test_noise_update_is_ascent_and_new():
    z = torch.tensor([[1.0, 2.0]])
    out = noise_update(z, torch.tensor([[0.5, -1.0]]), 0.1)
    assert torch.allclose(out, torch.tensor([[1.05, 1.9]]))
    assert torch.equal(z, torch.tensor([[1.0, 2.0]]))
    with pytest.raises(ValueError):
        noise_update(z, torch.zeros(2, 1), 0.1)


def test_score_with_penalty_closed_form():
    # ones and zeros: target 1, 4 others changed by 1: 1 - 0.5 * 4 = -1
    assert torch.allclose(score_with_penalty(torch.ones(3, 5), torch.zeros(3, 5), 2, 0.5), torch.full((3,), -1.0))
    # no penalty: the target logit
    logits = torch.tensor([[2.0, 0.5, 3.0, -1.0]])
    original = torch.tensor([[0.0, 0.5, 1.0, 1.0]])
    assert torch.allclose(score_with_penalty(logits, original, 0, 0.0), torch.tensor([2.0]))
    # others (0, 2, -2): squared 8
    assert torch.allclose(score_with_penalty(logits, original, 0, 0.1), torch.tensor([1.2]))
    # a subset of the others: only attribute 2 (change 2): 2 - 0.1 * 4
    assert torch.allclose(score_with_penalty(logits, original, 0, 0.1, others=[2]), torch.tensor([1.6]))
    for bad in ({"target": 4}, {"penalty_weight": -1.0}, {"others": [0, 1]}):
        args = {"target": 0, "penalty_weight": 0.1, **bad}
        with pytest.raises(ValueError):
            score_with_penalty(logits, original, **args)


def test_one_step_moves_z_by_lr_times_the_weight_row():
    z0 = torch.randn(5, 4)
    result = steer(nn.Identity(), _linear(), z0, target=0, steps=1, lr=0.3)
    assert torch.allclose(result.z[1], z0 + 0.3 * W[0])
    assert torch.allclose(target_gradient(nn.Identity(), _linear(), z0, 0), W[0].expand(5, 4))


def test_without_penalty_the_path_is_a_straight_line():
    z0 = torch.randn(2, 4)
    result = steer(nn.Identity(), _linear(), z0, target=0, steps=4, lr=0.1)
    assert result.z.shape == (5, 2, 4) and result.logits.shape == (5, 2, 3)
    for k in range(5):
        zk = z0 + 0.1 * k * W[0]
        assert torch.allclose(result.z[k], zk, atol=1e-6)
        assert torch.allclose(result.logits[k], zk @ W.T + B, atol=1e-5)
        assert torch.allclose(result.target_probability[k], torch.sigmoid(zk @ W[0] + B[0]), atol=1e-6)
        # off-target change: |W_o (z_k - z_0)| = 0.1 k |W_o w_t|
        assert torch.allclose(result.other_change[k], (0.1 * k * W[1:] @ W[0]).norm().expand(2), atol=1e-5)
    probs = torch.sigmoid(result.logits)
    assert torch.allclose(result.other_probability_change[2], (probs[2, :, 1:] - probs[0, :, 1:]).abs().mean(1))


def test_penalty_gradient_closed_form():
    # score = w_t . z - lam |W_o (z - z0)|^2: gradient w_t - 2 lam W_o^T W_o (z - z0).
    lam, lr = 0.2, 0.1
    z0 = torch.randn(3, 4)
    result = steer(nn.Identity(), _linear(), z0, target=0, steps=2, lr=lr, penalty_weight=lam)
    z1 = z0 + lr * W[0]  # the penalty's gradient is zero at z0
    w_o = W[1:]
    z2 = z1 + lr * (W[0] - 2 * lam * (z1 - z0) @ w_o.T @ w_o)
    assert torch.allclose(result.z[1], z1, atol=1e-6)
    assert torch.allclose(result.z[2], z2, atol=1e-6)


def test_penalty_cuts_off_target_change():
    z0 = torch.randn(4, 4, generator=torch.Generator().manual_seed(0))
    plain = steer(nn.Identity(), _linear(), z0, target=0, steps=30, lr=0.05)
    held = steer(nn.Identity(), _linear(), z0, target=0, steps=30, lr=0.05, penalty_weight=1.0)
    gain = lambda r: (r.logits[-1, :, 0] - r.logits[0, :, 0]).mean()  # noqa: E731
    change = lambda r: r.other_change[-1].mean()  # noqa: E731
    assert gain(held) > 0.3 * gain(plain) > 0
    assert change(held) < 0.5 * change(plain)
    # also per unit of target gain: the penalised path turns towards the direction (here e_4) that moves
    # the target logit without moving the others
    assert change(held) / gain(held) < 0.75 * change(plain) / gain(plain)
    frame = held.to_frame()
    assert list(frame.columns) == ["target_probability", "other_change", "other_probability_change"]
    assert len(frame) == 31 and frame.other_change.iloc[0] == 0


def test_networks_are_frozen_in_eval_mode_and_restored():
    torch.manual_seed(0)
    G = nn.Sequential(nn.Linear(4, 6), nn.BatchNorm1d(6), nn.Linear(6, 4))
    C = nn.Sequential(nn.Linear(4, 3), nn.Dropout(0.5))
    with torch.no_grad():  # give batch norm running statistics that differ from any batch's
        G[1].running_mean.fill_(3.0)
    G.train()
    C.train()
    C[0].bias.requires_grad_(False)
    z0 = torch.randn(5, 4)
    result = steer(G, C, z0, target=1, steps=2, lr=0.1)
    assert G.training and C.training  # restored
    assert all(p.requires_grad for p in G.parameters())
    assert C[0].weight.requires_grad and not C[0].bias.requires_grad
    assert all(p.grad is None for p in (*G.parameters(), *C.parameters()))  # nothing stored in the networks
    G.eval()
    C.eval()
    with torch.no_grad():
        assert torch.allclose(result.logits[0], C(G(z0)), atol=1e-6)  # eval mode: running statistics, no dropout
    assert torch.equal(result.z[0], z0)


def test_softmax_probabilities_sum_to_one():
    result = steer(nn.Identity(), _linear(), torch.randn(2, 4), target=2, steps=3, lr=0.1, activation="softmax")
    assert torch.allclose(result.probabilities.sum(-1), torch.ones(4, 2))
    assert (result.target_probability[-1] > result.target_probability[0]).all()


def test_mean_difference_direction():
    z = torch.tensor([[1.0, 0.0], [3.0, 0.0], [0.0, 2.0], [0.0, 4.0]])
    assert torch.allclose(mean_difference_direction(z, torch.tensor([True, True, False, False])),
                          torch.tensor([2.0, -3.0]))
    assert torch.allclose(mean_difference_direction(z, torch.tensor([1, 0, 0, 0])), torch.tensor([0.0, -2.0]))
    with pytest.raises(ValueError, match="both groups"):
        mean_difference_direction(z, torch.ones(4, dtype=torch.bool))
    with pytest.raises(ValueError):
        mean_difference_direction(z, torch.tensor([0.2, 0.9, 0.1, 0.7]))


def test_mean_difference_recovers_a_linear_attribute():
    # The attribute is "w . z > 0" for z ~ N(0, I): the mean difference points along w
    # (E[z | w.z > 0] = sqrt(2/pi) w/|w|, so the difference is 2 sqrt(2/pi) w/|w|).
    gen = torch.Generator().manual_seed(0)
    z = torch.randn(20_000, 4, generator=gen)
    w = torch.tensor([1.0, 2.0, 0.0, -1.0])
    d = mean_difference_direction(z, z @ w > 0)
    assert torch.nn.functional.cosine_similarity(d, w, dim=0) > 0.99
    assert abs(d.norm().item() - 2 * (2 / torch.pi) ** 0.5) < 0.05


def test_steer_validates():
    with pytest.raises(ValueError):
        steer(nn.Identity(), _linear(), torch.randn(4), target=0)
    with pytest.raises(ValueError):
        steer(nn.Identity(), _linear(), torch.randn(2, 4), target=3)
    with pytest.raises(ValueError):
        steer(nn.Identity(), nn.Sequential(_linear(), nn.Flatten(0)), torch.randn(2, 4), target=0)


def test_norm_penalty_closed_form():
    # seed 003's unsquared form: target - lam * |change|; others (0, 2, -2): norm sqrt(8)
    logits = torch.tensor([[2.0, 0.5, 3.0, -1.0]])
    original = torch.tensor([[0.0, 0.5, 1.0, 1.0]])
    expected = torch.tensor([2.0 - 0.1 * 8**0.5])
    score = score_with_penalty(logits, original, 0, 0.1, penalty="norm")
    assert torch.allclose(score, expected)
    with pytest.raises(ValueError, match="penalty"):
        score_with_penalty(logits, original, 0, 0.1, penalty="l1")
    with pytest.raises(ValueError, match="penalty"):
        steer(nn.Identity(), _linear(), torch.randn(2, 4), target=0, penalty="l1")


def test_norm_penalty_gradient_closed_form():
    # score = w_t . z - lam |W_o (z - z0)|: gradient w_t - lam W_o^T u, u = W_o (z - z0) / |.|;
    # at z0 PyTorch takes the subgradient 0, so the first step is pure ascent, as with the square.
    lam, lr = 0.2, 0.1
    z0 = torch.randn(3, 4, generator=torch.Generator().manual_seed(1))
    result = steer(nn.Identity(), _linear(), z0, target=0, steps=2, lr=lr,
                   penalty_weight=lam, penalty="norm")
    w_o = W[1:]
    z1 = z0 + lr * W[0]
    drift = (z1 - z0) @ w_o.T
    u = drift / drift.norm(dim=1, keepdim=True)
    z2 = z1 + lr * (W[0] - lam * u @ w_o)
    assert torch.allclose(result.z[1], z1, atol=1e-6)
    assert torch.allclose(result.z[2], z2, atol=1e-6)
    # the pull does not shrink with the drift: the same step from a tiny drift
    for size in (1e-6, 1.0):
        logits = torch.tensor([[0.0, size, 0.0]], requires_grad=True)
        score_with_penalty(logits, torch.zeros(1, 3), 0, 1.0, penalty="norm").sum().backward()
        assert torch.allclose(logits.grad, torch.tensor([[1.0, -1.0, 0.0]]))
