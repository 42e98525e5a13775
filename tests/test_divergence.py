"""A run that diverges stops with an error naming the step and the likely cause, before it saves NaN weights."""

from __future__ import annotations

import math

import pytest
import torch

from gancourse.data.toy import ring
from gancourse.models import MLPDiscriminator, MLPGenerator
from gancourse.training import TrainConfig, TrainingDiverged, train_gan

pytestmark = pytest.mark.usefixtures("one_thread")


def _pair() -> tuple[MLPGenerator, MLPDiscriminator]:
    torch.manual_seed(0)
    return MLPGenerator(2, 2, (16,), tanh=False), MLPDiscriminator(2, (16,))


def test_nan_in_the_data_stops_the_run_at_its_first_step_and_saves_nothing(tmp_path):
    data = ring().sample(64)
    data[5, 0] = math.nan
    path = tmp_path / "run.safetensors"
    G, D = _pair()
    with pytest.raises(TrainingDiverged, match=r"diverged at step 1: d_loss = nan.*isfinite\(data\)"):
        train_gan(G, D, data, TrainConfig(steps=3, batch_size=64), checkpoint=path, progress=False)
    assert not path.exists()


def test_a_huge_learning_rate_is_caught_and_named():
    G, D = _pair()
    with pytest.raises(TrainingDiverged, match=r"diverged at step \d+.*lr_d = 1e\+06, lr_g = 1e\+06"):
        train_gan(G, D, lambda n: ring().sample(n), TrainConfig(steps=60, batch_size=64, lr_d=1e6, lr_g=1e6,
                                                                loss="wasserstein"), progress=False)


def test_the_check_can_be_turned_off_and_the_run_records_to_the_end():
    data = ring().sample(64)
    data[0, 0] = math.nan
    G, D = _pair()
    history = train_gan(G, D, data, TrainConfig(steps=3, batch_size=64, stop_on_divergence=False), progress=False)
    assert len(history) == 3 and all(math.isnan(v) for v in history.d_loss)


@pytest.mark.parametrize("lr", [math.inf, math.nan, -1e-3])
def test_a_learning_rate_that_is_not_a_finite_number_is_refused_at_once(lr):
    with pytest.raises(ValueError, match="lr_d must be a finite number >= 0"):
        TrainConfig(lr_d=lr)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float16])
def test_data_of_another_float_dtype_is_converted_at_the_door(dtype):
    data = ring().sample(64)
    if dtype == torch.float16:
        data = data.half().float()  # values a float16 tensor can hold exactly
    runs = []
    for d in (data, data.to(dtype)):
        G, D = _pair()
        train_gan(G, D, d, TrainConfig(steps=2, batch_size=32), progress=False)
        runs.append([p.detach().clone() for p in G.parameters()])
    assert all(torch.equal(a, b) for a, b in zip(*runs))


def test_a_checkpoint_path_that_is_a_folder_is_refused_before_training(tmp_path):
    G, D = _pair()
    before = [p.detach().clone() for p in G.parameters()]
    with pytest.raises(ValueError, match="checkpoint must be a file path.*run.safetensors"):
        train_gan(G, D, ring().sample(64), TrainConfig(steps=2, batch_size=32), checkpoint=tmp_path, progress=False)
    assert all(torch.equal(a, b) for a, b in zip(before, G.parameters()))  # not a step was taken
