"""The training loop: closed-form losses on a constant discriminator, reproducibility, frozen players,
data sources, callbacks and TensorBoard; n_critic, the penalty and clipping against closed forms on a
linear critic, per-layer gradient norms, the EMA of G, exact resume from a checkpoint, bad configs."""

from __future__ import annotations

import copy
import dataclasses
import math
import sys
import warnings

import pandas as pd

import pytest
import torch
from PIL import Image
from torch import nn
from torch.optim.optimizer import register_optimizer_step_post_hook, register_optimizer_step_pre_hook
from torch.utils.data import TensorDataset

from gancourse import training
from gancourse.training.checkpoint import load_checkpoint
from gancourse.data.toy import ring
from gancourse.models import MLPDiscriminator, MLPGenerator
from gancourse.training import History, TrainConfig, batches, layer_grad_norms, save_samples, train_gan

LOG2 = math.log(2.0)


def _toy_gan(seed: int = 0) -> tuple[MLPGenerator, MLPDiscriminator]:
    torch.manual_seed(seed)
    return MLPGenerator(2, 2, hidden=(16,), tanh=False), MLPDiscriminator(2, hidden=(16,))


def _ring_sampler(n: int) -> torch.Tensor:
    return ring(sigma=0.05).sample(n)


def _zero(module: torch.nn.Module) -> None:
    with torch.no_grad():
        for p in module.parameters():
            p.zero_()


def _params(module: torch.nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in module.parameters()]


def test_history_has_one_row_per_step():
    G, D = _toy_gan()
    h = train_gan(G, D, _ring_sampler, TrainConfig(steps=6, batch_size=8), progress=False)
    assert isinstance(h, History) and len(h) == 6
    assert h.step == [1, 2, 3, 4, 5, 6]
    frame = h.to_frame()
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns) == ["d_loss", "g_loss", "d_real", "d_fake", "gp", "w_estimate"]
    assert frame.index.name == "step" and list(frame.index) == [1, 2, 3, 4, 5, 6]
    assert frame.notna().all().all()
    assert frame[["d_real", "d_fake"]].stack().between(0, 1).all()


@pytest.mark.parametrize(("kind", "d_loss", "g_loss", "d_mean"), [
    ("nonsaturating", 2 * LOG2, LOG2, 0.5),
    ("minimax", 2 * LOG2, -LOG2, 0.5),
    ("wasserstein", 0.0, 0.0, 0.0),
    ("hinge", 2.0, 0.0, 0.0),
])
def test_losses_against_a_discriminator_that_says_zero(kind, d_loss, g_loss, d_mean):
    # D with every weight 0 outputs score 0 everywhere; lr_d = 0 keeps it so. Then by hand:
    # L_D = -log(1/2) - log(1/2) = 2 log 2; non-saturating L_G = -log(1/2) = log 2; minimax L_G = log(1/2);
    # Wasserstein: 0 - 0 and -0; hinge: relu(1 - 0) + relu(1 + 0) = 2 and -0. D(x) = sigmoid(0) = 1/2
    # for the probability losses; the raw score 0 for the critic losses.
    G, D = _toy_gan()
    _zero(D)
    h = train_gan(G, D, _ring_sampler, TrainConfig(steps=4, batch_size=8, lr_d=0.0, loss=kind), progress=False)
    for values, want in ((h.d_loss, d_loss), (h.g_loss, g_loss), (h.d_real, d_mean), (h.d_fake, d_mean),
                         (h.gp, 0.0), (h.w_estimate, 0.0)):
        assert values == pytest.approx([want] * 4, abs=1e-6)


def test_same_seed_same_run_and_different_seed_different_run():
    runs = []
    for seed in (3, 3, 4):
        G, D = _toy_gan(0)
        h = train_gan(G, D, _ring_sampler, TrainConfig(steps=20, batch_size=16, seed=seed), progress=False)
        runs.append((h.d_loss, h.g_loss, _params(G)))
    assert runs[0][0] == runs[1][0] and runs[0][1] == runs[1][1]
    assert all(torch.equal(a, b) for a, b in zip(runs[0][2], runs[1][2]))
    assert runs[0][0] != runs[2][0]


def test_the_callers_random_state_is_left_alone():
    G, D = _toy_gan()
    state = torch.get_rng_state()
    train_gan(G, D, _ring_sampler, TrainConfig(steps=3, batch_size=8), progress=False)
    assert torch.equal(torch.get_rng_state(), state)


def test_discriminator_learns_when_the_generator_is_frozen():
    # lr_g = 0 freezes G at its initial cloud near the origin, far from the ring: D can separate the
    # two perfectly, so its loss must fall from about 2 log 2 towards 0.
    G, D = _toy_gan()
    before = _params(G)
    h = train_gan(G, D, _ring_sampler, TrainConfig(steps=200, batch_size=64, lr_d=1e-2, lr_g=0.0), progress=False)
    assert all(torch.equal(a, b) for a, b in zip(before, _params(G)))
    assert h.d_loss[0] == pytest.approx(2 * LOG2, abs=0.4)  # small initial logits: near chance
    assert sum(h.d_loss[-10:]) / 10 < 0.1
    assert sum(h.d_real[-10:]) / 10 > 0.9 and sum(h.d_fake[-10:]) / 10 < 0.1


def test_generator_learns_when_the_discriminator_is_frozen():
    # lr_d = 0 freezes D; G alone minimises -log D(G(z)), so its loss must go down.
    G, D = _toy_gan()
    before = _params(D)
    h = train_gan(G, D, _ring_sampler, TrainConfig(steps=100, batch_size=64, lr_d=0.0, lr_g=1e-2), progress=False)
    assert all(torch.equal(a, b) for a, b in zip(before, _params(D)))
    assert sum(h.g_loss[-10:]) / 10 < 0.5 * sum(h.g_loss[:10]) / 10


def test_callback_runs_at_zero_every_k_steps_and_at_the_end():
    G, D = _toy_gan()
    calls = []
    train_gan(G, D, _ring_sampler, TrainConfig(steps=7, batch_size=8),
              callback=lambda step, g, d: calls.append((step, g is G, d is D)), every=3, progress=False)
    assert calls == [(0, True, True), (3, True, True), (6, True, True), (7, True, True)]


def test_tensor_and_dataset_data():
    data = ring(sigma=0.05).sample(64, generator=torch.Generator().manual_seed(0))
    for source in (data, TensorDataset(data, torch.zeros(64, dtype=torch.long)), TensorDataset(data)):
        G, D = _toy_gan()
        h = train_gan(G, D, source, TrainConfig(steps=5, batch_size=16), progress=False)
        assert len(h) == 5


def test_tensor_batches_are_shuffled_passes_over_the_data():
    data = torch.arange(12.0).unsqueeze(1)
    with torch.random.fork_rng():
        torch.manual_seed(0)
        it = batches(data, 4)
        first_pass = torch.cat([next(it) for _ in range(3)]).squeeze(1)
    assert sorted(first_pass.tolist()) == list(range(12))
    assert first_pass.tolist() != list(range(12))  # shuffled (P(identity) = 1/12!)


def test_images_in_the_loop():
    torch.manual_seed(0)
    images = torch.rand(32, 1, 28, 28) * 2 - 1
    G = MLPGenerator(8, (1, 28, 28), hidden=(16,), batch_norm=True)
    D = MLPDiscriminator((1, 28, 28), hidden=(16,))
    h = train_gan(G, D, images, TrainConfig(steps=3, batch_size=8), progress=True)
    assert len(h) == 3


def test_log_dir_without_tensorboard_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)  # import fails as if not installed
    G, D = _toy_gan()
    with pytest.raises(ImportError, match="pip install tensorboard"):
        train_gan(G, D, _ring_sampler, TrainConfig(steps=2, batch_size=8), log_dir=tmp_path / "run", progress=False)


def test_tensorboard_writes_an_event_file(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    G, D = _toy_gan()
    h = train_gan(G, D, _ring_sampler, TrainConfig(steps=5, batch_size=8), log_dir=tmp_path / "run", progress=False)
    events = list((tmp_path / "run").glob("events.out.tfevents.*"))
    assert len(events) == 1
    acc = EventAccumulator(str(tmp_path / "run"))
    acc.Reload()
    assert set(acc.Tags()["scalars"]) == {"loss/D", "loss/G", "D/real", "D/fake", "loss/gp", "D/w_estimate"}
    logged = acc.Scalars("loss/D")
    assert [e.step for e in logged] == [1, 2, 3, 4, 5]
    assert [e.value for e in logged] == pytest.approx(h.d_loss, rel=1e-6)


@pytest.mark.parametrize(
    "kwargs",
    [{"steps": 0}, {"batch_size": 0}, {"steps": 2.5}, {"lr_d": -1e-3}, {"lr_g": float("nan")},
     {"loss": "wgan"}, {"loss": None}, {"n_critic": 0}, {"n_critic": 5.0}, {"optimizer": "sgd"},
     {"gp_weight": -1.0}, {"gp_weight": float("inf")}, {"gp_weight": "10"}, {"clip_value": 0.0},
     {"clip_value": -0.01}, {"ema_decay": 1.5}, {"ema_decay": -0.1}, {"record_grad_norms": 1},
     {"amp": "yes"}, {"channels_last": None}, {"betas": (0.5,)}, {"betas": (1.0, 0.9)}, {"seed": -1},
     {"seed": 1.5}],
)
def test_config_rejects_bad_values_naming_the_field(kwargs):
    (field,) = kwargs
    with pytest.raises((ValueError, TypeError), match=field):  # TypeError: a bool field given a non-bool
        TrainConfig(**kwargs)


def test_the_old_g_loss_field_is_gone():
    with pytest.raises(TypeError, match="g_loss"):
        TrainConfig(g_loss="minimax")


def test_bad_data_and_models_raise_clear_errors():
    G, D = _toy_gan()
    cfg = TrainConfig(steps=2, batch_size=8)
    with pytest.raises(TypeError, match="sampler"):
        train_gan(G, D, [[0.0, 0.0]] * 8, cfg, progress=False)
    with pytest.raises(ValueError, match="sampler must return"):
        train_gan(G, D, lambda n: torch.zeros(n + 1, 2), cfg, progress=False)
    with pytest.raises(ValueError, match="fewer than batch_size"):
        train_gan(G, D, torch.zeros(4, 2), cfg, progress=False)
    with pytest.raises(TypeError, match="z_dim"):
        train_gan(torch.nn.Linear(2, 2), D, _ring_sampler, cfg, progress=False)
    with pytest.raises(ValueError, match="every"):
        train_gan(G, D, _ring_sampler, cfg, callback=lambda *a: None, every=0, progress=False)


# ---------------------------------------------------------------- every loss kind, images, n_critic

@pytest.mark.parametrize("kind", ["nonsaturating", "minimax", "wasserstein", "hinge"])
def test_a_few_steps_of_each_loss_kind_on_a_dcgan(kind):
    from gancourse.models.dcgan import DCGANGenerator, critic

    torch.manual_seed(0)
    G, D = DCGANGenerator(z_dim=8, image_size=28, channels=1, width=4), critic(28, 1, width=4)
    images = torch.rand(32, 1, 28, 28) * 2 - 1
    before = _params(D)
    cfg = TrainConfig(steps=3, batch_size=8, loss=kind, n_critic=2, gp_weight=10.0 if kind == "wasserstein" else 0.0)
    h = train_gan(G, D, images, cfg, progress=False)
    frame = h.to_frame()
    assert len(frame) == 3 and frame.notna().all().all()
    assert (frame["gp"] > 0).all() if kind == "wasserstein" else (frame["gp"] == 0).all()
    assert not all(torch.equal(a, b) for a, b in zip(before, _params(D)))


def _count_steps(optimizer_params):
    """Return a dict counting optimizer steps by which network they update, and the hook handle."""
    counts = {"G": 0, "D": 0}

    def hook(optimizer, args, kwargs):
        first = optimizer.param_groups[0]["params"][0]
        for name, params in optimizer_params.items():
            if any(first is p for p in params):
                counts[name] += 1

    return counts, register_optimizer_step_post_hook(hook)


def test_n_critic_updates_d_n_times_per_g_step_each_on_a_fresh_batch(tmp_path):
    G, D = _toy_gan()
    counts, handle = _count_steps({"G": list(G.parameters()), "D": list(D.parameters())})
    calls = []

    def sampler(n):
        calls.append(n)
        return ring(sigma=0.05).sample(n)

    try:
        h = train_gan(G, D, sampler, TrainConfig(steps=4, batch_size=8, n_critic=5), progress=False,
                      checkpoint=tmp_path / "ck.safetensors")
    finally:
        handle.remove()
    assert counts == {"G": 4, "D": 20} and len(h) == 4
    assert calls == [8] * 20  # one fresh real batch per D update
    state = load_checkpoint(tmp_path / "ck.safetensors")
    assert state["opt_d"]["state"][0]["step"].item() == 20 and state["opt_g"]["state"][0]["step"].item() == 4


def test_rmsprop_is_used_when_asked(tmp_path):
    G, D = _toy_gan()
    train_gan(G, D, _ring_sampler, TrainConfig(steps=2, batch_size=8, optimizer="rmsprop"), progress=False,
              checkpoint=tmp_path / "ck.safetensors")
    state = load_checkpoint(tmp_path / "ck.safetensors")
    assert "square_avg" in state["opt_d"]["state"][0] and "exp_avg" not in state["opt_d"]["state"][0]
    assert "alpha" in state["opt_g"]["param_groups"][0]


# ---------------------------------------------------------------- a linear critic: closed forms

def _linear_gan(b=(1.0, -1.0), w=(3.0, 4.0)):
    """G(z) = b for every z (zero weights), f(x) = w . x; real data all at mu = (0, 1)."""
    G, D = MLPGenerator(2, 2, hidden=(), tanh=False), MLPDiscriminator(2, hidden=())
    with torch.no_grad():
        G.net[0].weight.zero_()
        G.net[0].bias.copy_(torch.tensor(b))
        D.net[0].weight.copy_(torch.tensor([w]))
        D.net[0].bias.zero_()
    mu = torch.tensor([0.0, 1.0])
    return G, D, mu.expand(64, 2).clone(), torch.tensor(b), mu


def test_penalty_losses_and_grad_norms_of_a_linear_critic_in_closed_form():
    G, D, data, b, mu = _linear_gan()
    w, lam = torch.tensor([3.0, 4.0]), 10.0
    cfg = TrainConfig(steps=3, batch_size=8, loss="wasserstein", gp_weight=lam, lr_d=0.0, lr_g=0.0,
                      record_grad_norms=True)
    h = train_gan(G, D, data, cfg, progress=False)
    # |w| = 5: penalty (5 - 1)^2 = 16. L_D = w.b - w.mu = -1 - 4 = -5; the estimate is its negative.
    assert h.gp == pytest.approx([16.0] * 3)
    assert h.d_loss == pytest.approx([-5.0] * 3) and h.w_estimate == pytest.approx([5.0] * 3)
    assert h.g_loss == pytest.approx([1.0] * 3)  # -w.b
    # dL/dw = (b - mu) + lam * 2 (|w| - 1) w / |w|; the bias cancels out of both terms.
    grad_w = (b - mu) + lam * 2 * (5 - 1) * w / 5
    assert list(h.grad_norms) == ["net.0"]
    assert h.grad_norms["net.0"] == pytest.approx([grad_w.norm().item()] * 3, rel=1e-6)
    assert list(h.grad_norm_frame().columns) == ["net.0"] and list(h.grad_norm_frame().index) == [1, 2, 3]


def test_the_penalty_leads_a_linear_critic_to_its_closed_form_optimum():
    # min_w w.(b - mu) + lam (|w| - 1)^2 is at w = (1 + d / (2 lam)) (mu - b) / d, d = |mu - b|.
    G, D, data, b, mu = _linear_gan(b=(0.0, -1.0), w=(0.5, 0.0))
    lam = 10.0
    cfg = TrainConfig(steps=600, batch_size=8, loss="wasserstein", gp_weight=lam, lr_d=5e-3, lr_g=0.0,
                      betas=(0.0, 0.9))
    train_gan(G, D, data, cfg, progress=False)
    d = (mu - b).norm()
    want = (1 + d / (2 * lam)) * (mu - b) / d  # (0, 1.1)
    assert D.net[0].weight.detach().squeeze(0) == pytest.approx(want.tolist(), abs=5e-3)


def test_clipping_sends_a_linear_critic_to_the_corner_of_the_box():
    # Maximising w.(mu - b) over the box |w_j| <= c gives w = c * sign(mu - b).
    G, D, data, b, mu = _linear_gan(b=(1.0, -1.0), w=(0.0, 0.0))
    c = 0.01
    cfg = TrainConfig(steps=40, batch_size=8, loss="wasserstein", clip_value=c, optimizer="rmsprop",
                      lr_d=5e-3, lr_g=0.0)
    train_gan(G, D, data, cfg, progress=False)
    assert torch.equal(D.net[0].weight.detach().squeeze(0), c * torch.sign(mu - b))


def test_clipping_keeps_every_parameter_of_d_in_the_box():
    G, D = _toy_gan()
    c = 0.01
    h = train_gan(G, D, _ring_sampler, TrainConfig(steps=30, batch_size=16, loss="wasserstein", n_critic=2,
                                                   clip_value=c, lr_d=1e-2), progress=False)
    params = torch.cat([p.detach().flatten() for p in D.parameters()])
    assert params.abs().max() <= c
    assert (params.abs() == c).float().mean() > 0.5  # the clip did act: most weights sit on the bound
    assert len(h) == 30


def test_gp_is_zero_without_a_penalty_and_positive_with_one():
    for weight in (0.0, 10.0):
        G, D = _toy_gan()
        h = train_gan(G, D, _ring_sampler, TrainConfig(steps=5, batch_size=16, loss="wasserstein", gp_weight=weight),
                      progress=False)
        assert all(v > 0 for v in h.gp) if weight else h.gp == [0.0] * 5


# ---------------------------------------------------------------- per-layer gradient norms

def test_grad_norms_are_recorded_per_layer_on_request():
    G = MLPGenerator(2, 2, hidden=(16,), tanh=False)
    D = MLPDiscriminator(2, hidden=(16, 16))
    h = train_gan(G, D, _ring_sampler, TrainConfig(steps=4, batch_size=8, record_grad_norms=True, n_critic=2),
                  progress=False)
    assert list(h.grad_norms) == ["net.0", "net.2", "net.4"]  # the three Linear layers, in order
    frame = h.grad_norm_frame()
    assert frame.shape == (4, 3) and list(frame.index) == [1, 2, 3, 4] and (frame > 0).all().all()
    G, D = _toy_gan()
    h = train_gan(G, D, _ring_sampler, TrainConfig(steps=2, batch_size=8), progress=False)
    assert h.grad_norms == {} and h.grad_norm_frame().empty


def test_grad_norms_come_from_each_steps_last_critic_update():
    G = MLPGenerator(2, 2, hidden=(16,), tanh=False)
    D = MLPDiscriminator(2, hidden=(16, 16))
    first = D.net[0]
    seen = []  # the first layer's gradient norm (weight and bias together) at every D update, before it applies

    def before_step(opt, args, kwargs):
        if opt.param_groups[0]["params"][0] is first.weight:
            seen.append(torch.cat([first.weight.grad.flatten(), first.bias.grad]).norm().item())

    handle = register_optimizer_step_pre_hook(before_step)
    try:
        h = train_gan(G, D, _ring_sampler, TrainConfig(steps=3, batch_size=8, record_grad_norms=True, n_critic=3),
                      progress=False)
    finally:
        handle.remove()
    assert len(seen) == 9  # 3 steps of 3 critic updates
    recorded = h.grad_norms["net.0"]
    assert recorded == pytest.approx(seen[2::3], rel=1e-6)  # each step's third update, not its first or second
    assert all(abs(recorded[s] - seen[3 * s]) > 1e-4 for s in range(3))


def test_layer_grad_norms_group_weight_and_bias_and_spectral_norm():
    net = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.utils.parametrizations.spectral_norm(nn.Linear(4, 2)))
    net(torch.randn(5, 3)).pow(2).sum().backward()
    norms = layer_grad_norms(net)
    assert list(norms) == ["0", "2"]
    want0 = math.sqrt(net[0].weight.grad.pow(2).sum() + net[0].bias.grad.pow(2).sum())
    original = net[2].parametrizations.weight.original
    want2 = math.sqrt(original.grad.pow(2).sum() + net[2].bias.grad.pow(2).sum())
    assert norms["0"].item() == pytest.approx(want0, rel=1e-6)
    assert norms["2"].item() == pytest.approx(want2, rel=1e-6)


# ---------------------------------------------------------------- EMA of G

def _bn_gan():
    torch.manual_seed(0)
    return MLPGenerator(2, 2, hidden=(16,), tanh=False, batch_norm=True), MLPDiscriminator(2, hidden=(16,))


def test_ema_with_decay_zero_is_g_and_with_decay_one_stays_at_init():
    G, D = _bn_gan()
    h = train_gan(G, D, _ring_sampler, TrainConfig(steps=5, batch_size=16, ema_decay=0.0), progress=False)
    ema = h.ema_generator
    assert ema is not G and not ema.training and not any(p.requires_grad for p in ema.parameters())
    for a, b in zip(ema.state_dict().values(), G.state_dict().values()):
        assert torch.equal(a, b)

    G, D = _bn_gan()
    init = _params(G)
    h = train_gan(G, D, _ring_sampler, TrainConfig(steps=5, batch_size=16, ema_decay=1.0), progress=False)
    assert all(torch.equal(a, b) for a, b in zip(init, _params(h.ema_generator)))
    assert not all(torch.equal(a, b) for a, b in zip(init, _params(G)))  # G itself moved
    # Buffers (batch norm's running statistics) are copied from G, not averaged.
    assert torch.equal(h.ema_generator.net[1].running_mean, G.net[1].running_mean)


def test_ema_after_one_step_is_the_weighted_mean():
    G, D = _bn_gan()
    init = _params(G)
    h = train_gan(G, D, _ring_sampler, TrainConfig(steps=1, batch_size=16, ema_decay=0.25), progress=False)
    for e, w0, w1 in zip(_params(h.ema_generator), init, _params(G)):
        assert torch.allclose(e, 0.25 * w0 + 0.75 * w1, atol=1e-7)
    G, D = _toy_gan()
    assert train_gan(G, D, _ring_sampler, TrainConfig(steps=1, batch_size=8), progress=False).ema_generator is None


# ---------------------------------------------------------------- exact resume

def _resume_cases():
    data = ring(sigma=0.05).sample(96, generator=torch.Generator().manual_seed(0))
    return [
        pytest.param(lambda n: ring(sigma=0.05).sample(n), dict(loss="nonsaturating"), id="sampler-nonsaturating"),
        pytest.param(data, dict(loss="wasserstein", gp_weight=10.0, n_critic=3, ema_decay=0.9,
                                record_grad_norms=True, betas=(0.0, 0.9)), id="tensor-wgan-gp-ema"),
        pytest.param(TensorDataset(data, torch.zeros(96)), dict(loss="hinge", n_critic=2, optimizer="rmsprop"),
                     id="dataset-hinge-rmsprop"),
        pytest.param(data, dict(loss="wasserstein", clip_value=0.05, optimizer="rmsprop", n_critic=2),
                     id="tensor-wgan-clip"),
    ]


@pytest.mark.parametrize(("data", "extra"), _resume_cases())
def test_a_resumed_run_continues_exactly(tmp_path, data, extra):
    cfg = dict(batch_size=32, lr_d=1e-3, lr_g=1e-3, seed=7, **extra)  # 96 / 32: passes end mid-run
    G, D = _bn_gan()
    full = train_gan(G, D, data, TrainConfig(steps=8, **cfg), progress=False)

    G1, D1 = _bn_gan()
    path = tmp_path / "run.safetensors"
    train_gan(G1, D1, data, TrainConfig(steps=5, **cfg), progress=False, checkpoint=path, checkpoint_every=2)
    assert load_checkpoint(path)["step"] == 5

    G2, D2 = MLPGenerator(2, 2, hidden=(16,), tanh=False, batch_norm=True), MLPDiscriminator(2, hidden=(16,))
    with torch.no_grad():
        for p in [*G2.parameters(), *D2.parameters()]:
            p.add_(0.5)  # other weights: only the checkpoint can put them back
    state = torch.get_rng_state()
    resumed = train_gan(G2, D2, data, TrainConfig(steps=8, **cfg), progress=False, checkpoint=path, resume=True)
    assert torch.equal(torch.get_rng_state(), state)
    for name in ("step", *History.COLUMNS):
        assert getattr(resumed, name) == getattr(full, name), name  # steps 6, 7, 8 included, bit for bit
    assert resumed.grad_norms == full.grad_norms
    for a, b in zip([*G.state_dict().values(), *D.state_dict().values()],
                    [*G2.state_dict().values(), *D2.state_dict().values()]):
        assert torch.equal(a, b)
    if full.ema_generator is not None:
        for a, b in zip(full.ema_generator.state_dict().values(), resumed.ema_generator.state_dict().values()):
            assert torch.equal(a, b)


def test_resume_without_a_checkpoint_file_starts_afresh_and_callbacks_skip_the_resumed_step(tmp_path):
    path = tmp_path / "run.safetensors"
    calls = []
    G, D = _toy_gan()
    h = train_gan(G, D, _ring_sampler, TrainConfig(steps=4, batch_size=8), progress=False, checkpoint=path,
                  resume=True, callback=lambda step, g, d: calls.append(step), every=2)
    assert len(h) == 4 and calls == [0, 2, 4]
    G, D = _toy_gan()
    h = train_gan(G, D, _ring_sampler, TrainConfig(steps=6, batch_size=8), progress=False, checkpoint=path,
                  resume=True, callback=lambda step, g, d: calls.append(step), every=2)
    assert h.step == [1, 2, 3, 4, 5, 6] and calls == [0, 2, 4, 6]


def test_resume_refuses_a_different_config(tmp_path):
    path = tmp_path / "run.safetensors"
    G, D = _toy_gan()
    train_gan(G, D, _ring_sampler, TrainConfig(steps=3, batch_size=8), progress=False, checkpoint=path)
    with pytest.raises(ValueError, match="lr_d"):
        train_gan(G, D, _ring_sampler, TrainConfig(steps=6, batch_size=8, lr_d=1e-3), progress=False,
                  checkpoint=path, resume=True)
    with pytest.raises(ValueError, match="past config.steps"):
        train_gan(G, D, _ring_sampler, TrainConfig(steps=2, batch_size=8), progress=False,
                  checkpoint=path, resume=True)
    with pytest.raises(ValueError, match="checkpoint_every"):
        train_gan(G, D, _ring_sampler, TrainConfig(steps=2, batch_size=8), progress=False, checkpoint_every=1)


# ---------------------------------------------------------------- data, samples, devices

def test_dataset_batches_are_shuffled_passes_too():
    data = TensorDataset(torch.arange(12.0).unsqueeze(1), torch.zeros(12))
    with torch.random.fork_rng():
        torch.manual_seed(0)
        it = batches(data, 4)
        first_pass = torch.cat([next(it) for _ in range(3)]).squeeze(1)
        second_pass = torch.cat([next(it) for _ in range(3)]).squeeze(1)
    assert sorted(first_pass.tolist()) == sorted(second_pass.tolist()) == list(range(12))
    assert first_pass.tolist() != second_pass.tolist()


def test_save_samples_writes_a_grid_at_each_callback(tmp_path):
    G = MLPGenerator(4, (1, 8, 8), hidden=(16,), batch_norm=True)
    D = MLPDiscriminator((1, 8, 8), hidden=(16,))
    z = torch.randn(6, 4, generator=torch.Generator().manual_seed(0))
    train_gan(G, D, torch.rand(32, 1, 8, 8) * 2 - 1, TrainConfig(steps=4, batch_size=8), progress=False,
              callback=save_samples(tmp_path / "grids", z, nrow=3), every=2)
    files = sorted(p.name for p in (tmp_path / "grids").glob("*.png"))
    assert files == ["samples_000000.png", "samples_000002.png", "samples_000004.png"]
    # 3 x 2 images of 8 px with torchvision's 2-px padding: 3 * 10 + 2 wide, 2 * 10 + 2 high.
    assert Image.open(tmp_path / "grids" / files[-1]).size == (32, 22)
    assert G.training  # switched back after sampling in eval mode


def test_amp_warns_once_on_the_cpu(monkeypatch):
    monkeypatch.setattr(training.loop, "_WARNED", set())
    G, D = _toy_gan()
    with pytest.warns(UserWarning, match="CUDA only") as record:
        train_gan(G, D, _ring_sampler, TrainConfig(steps=2, batch_size=8, amp=True), progress=False)
        train_gan(G, D, _ring_sampler, TrainConfig(steps=2, batch_size=8, amp=True), progress=False)
    assert len(record) == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # channels_last is no CUDA-only flag: no warning, and MLPs are untouched
        h = train_gan(G, D, _ring_sampler, TrainConfig(steps=2, batch_size=8, channels_last=True), progress=False)
    assert len(h) == 2 and all(p.is_contiguous() for p in G.parameters())


def _small_dcgan() -> tuple[nn.Module, nn.Module, torch.Tensor]:
    from gancourse.models.dcgan import DCGANDiscriminator, DCGANGenerator

    torch.manual_seed(0)
    images = torch.rand(64, 1, 28, 28) * 2 - 1
    return DCGANGenerator(8, 28, 1, width=8), DCGANDiscriminator(28, 1, width=8), images


def test_channels_last_on_the_cpu_is_the_same_computation_in_nhwc():
    G, D, images = _small_dcgan()
    G2, D2 = (copy.deepcopy(m) for m in (G, D))
    cfg = TrainConfig(steps=4, batch_size=16)
    nchw = train_gan(G, D, images, cfg, progress=False).to_frame()
    nhwc = train_gan(G2, D2, images, dataclasses.replace(cfg, channels_last=True), progress=False).to_frame()
    conv_weights = [p for p in [*G2.parameters(), *D2.parameters()] if p.ndim == 4]
    assert conv_weights and all(p.is_contiguous(memory_format=torch.channels_last) for p in conv_weights)
    assert not all(p.is_contiguous() for p in conv_weights)
    # The same batches, noise and updates; only the order of float sums inside the kernels differs.
    pd.testing.assert_frame_equal(nchw, nhwc, rtol=1e-3, atol=1e-4)


def test_a_channels_last_run_resumes_exactly(tmp_path):
    G, D, images = _small_dcgan()
    G2, D2 = (copy.deepcopy(m) for m in (G, D))
    cfg = TrainConfig(steps=5, batch_size=16, channels_last=True)
    whole = train_gan(G, D, images, cfg, progress=False).to_frame()
    path = tmp_path / "run.safetensors"
    train_gan(G2, D2, images, dataclasses.replace(cfg, steps=3), progress=False, checkpoint=path)
    G3, D3, _ = _small_dcgan()
    resumed = train_gan(G3, D3, images, cfg, progress=False, checkpoint=path, resume=True).to_frame()
    pd.testing.assert_frame_equal(whole, resumed, rtol=0, atol=0)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="AMP acts on CUDA only; this test runs it with channels_last on a GPU")
def test_amp_and_channels_last_on_cuda(tmp_path):
    from gancourse.models.dcgan import DCGANDiscriminator, DCGANGenerator

    torch.manual_seed(0)
    G, D = DCGANGenerator(16, 32, 3, width=16).cuda(), DCGANDiscriminator(32, 3, width=16).cuda()
    images = torch.rand(64, 3, 32, 32) * 2 - 1
    cfg = TrainConfig(steps=6, batch_size=16, amp=True, channels_last=True, record_grad_norms=True)
    path = tmp_path / "run.safetensors"
    h = train_gan(G, D, images, cfg, progress=False, checkpoint=path)
    assert h.to_frame().notna().all().all() and len(h.grad_norms) > 0
    assert next(D.parameters()).is_contiguous(memory_format=torch.channels_last)
    assert load_checkpoint(path)["scaler_d"]["scale"] > 0


def test_the_g_step_leaves_d_weights_out_and_d_trainable_afterwards():
    # One step, linear critic, Wasserstein loss: D's step leaves dL_D/dw = b - mu in w.grad. Had the G
    # step also computed gradients for w, it would have added dL_G/dw = -b, leaving -mu.
    G, D, data, b, mu = _linear_gan()
    train_gan(G, D, data, TrainConfig(steps=1, batch_size=8, loss="wasserstein", lr_d=0.0), progress=False)
    assert D.net[0].weight.grad.squeeze(0).tolist() == pytest.approx((b - mu).tolist())
    assert all(p.requires_grad for p in D.parameters())


def test_an_error_in_the_g_step_does_not_leave_d_frozen():
    G, D = _toy_gan()
    calls = []

    class Failing(nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, x):
            calls.append(1)
            if len(calls) == 3:  # D(real), D(fake) in the D step, then the G step's call
                raise KeyboardInterrupt
            return self.inner(x)

    with pytest.raises(KeyboardInterrupt):
        train_gan(G, Failing(D), _ring_sampler, TrainConfig(steps=2, batch_size=8), progress=False)
    assert all(p.requires_grad for p in D.parameters())


def test_tensorboard_gets_the_critic_curves_and_grad_norms(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    G, D, data, b, mu = _linear_gan()
    train_gan(G, D, data, TrainConfig(steps=3, batch_size=8, loss="wasserstein", gp_weight=10.0, lr_d=0.0,
                                      lr_g=0.0, record_grad_norms=True), log_dir=tmp_path / "run", progress=False)
    acc = EventAccumulator(str(tmp_path / "run"))
    acc.Reload()
    assert "grad_norm/net.0" in acc.Tags()["scalars"]
    assert [e.value for e in acc.Scalars("loss/gp")] == pytest.approx([16.0] * 3)  # (|w| - 1)^2, |w| = 5
    assert [e.value for e in acc.Scalars("D/w_estimate")] == pytest.approx([5.0] * 3)
