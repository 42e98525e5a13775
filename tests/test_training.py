"""The training loop: closed-form losses on a constant discriminator, reproducibility, frozen players,
data sources, callbacks and TensorBoard."""

from __future__ import annotations

import math

import pandas as pd
import pytest
import torch
from torch.utils.data import TensorDataset

from gancourse.data.toy import ring
from gancourse.models import MLPDiscriminator, MLPGenerator
from gancourse.training import History, TrainConfig, batches, train_gan

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
    assert list(frame.columns) == ["d_loss", "g_loss", "d_real", "d_fake"]
    assert frame.index.name == "step" and list(frame.index) == [1, 2, 3, 4, 5, 6]
    assert frame.notna().all().all()
    assert frame[["d_real", "d_fake"]].stack().between(0, 1).all()


@pytest.mark.parametrize(("kind", "g_loss"), [("nonsaturating", LOG2), ("minimax", -LOG2)])
def test_losses_against_a_discriminator_that_says_one_half(kind, g_loss):
    # D with every weight 0 outputs logit 0, D = 1/2 everywhere; lr_d = 0 keeps it so. Then by hand:
    # L_D = -log(1/2) - log(1/2) = 2 log 2; non-saturating L_G = -log(1/2) = log 2; minimax L_G = log(1/2).
    G, D = _toy_gan()
    _zero(D)
    h = train_gan(G, D, _ring_sampler, TrainConfig(steps=4, batch_size=8, lr_d=0.0, g_loss=kind), progress=False)
    for values, want in ((h.d_loss, 2 * LOG2), (h.g_loss, g_loss), (h.d_real, 0.5), (h.d_fake, 0.5)):
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


def test_tensorboard_writes_an_event_file(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    G, D = _toy_gan()
    h = train_gan(G, D, _ring_sampler, TrainConfig(steps=5, batch_size=8), log_dir=tmp_path / "run", progress=False)
    events = list((tmp_path / "run").glob("events.out.tfevents.*"))
    assert len(events) == 1
    acc = EventAccumulator(str(tmp_path / "run"))
    acc.Reload()
    assert set(acc.Tags()["scalars"]) == {"loss/D", "loss/G", "D/real", "D/fake"}
    logged = acc.Scalars("loss/D")
    assert [e.step for e in logged] == [1, 2, 3, 4, 5]
    assert [e.value for e in logged] == pytest.approx(h.d_loss, rel=1e-6)


@pytest.mark.parametrize(
    "kwargs",
    [{"steps": 0}, {"batch_size": 0}, {"steps": 2.5}, {"lr_d": -1e-3}, {"lr_g": float("nan")},
     {"g_loss": "wasserstein"}],
)
def test_config_rejects_bad_values(kwargs):
    with pytest.raises(ValueError):
        TrainConfig(**kwargs)


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
