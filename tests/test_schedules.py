"""Learning-rate schedules against their closed forms, and train_gan following them (and ema_start)."""

from __future__ import annotations

import pytest
import torch

from gancourse.data.toy import ring
from gancourse.models import MLPDiscriminator, MLPGenerator
from gancourse.training import LinearDecay, PiecewiseConstant, TrainConfig, train_gan

pytestmark = pytest.mark.usefixtures("one_thread")


def test_piecewise_constant_holds_each_factor_for_its_steps():
    s = PiecewiseConstant((3, 1.0), (2, 0.2))
    assert [s(step) for step in range(1, 8)] == [1.0, 1.0, 1.0, 0.2, 0.2, 0.2, 0.2]  # later steps keep the last
    assert s.total_steps == 5 and repr(s) == "PiecewiseConstant(pieces=((3, 1.0), (2, 0.2)))"


@pytest.mark.parametrize("bad", [(), ((0, 1.0),), ((3, -0.1),), ((3,),), ("3, 1.0",), ((2.5, 1.0),)])
def test_piecewise_constant_refuses_bad_pieces(bad):
    with pytest.raises(ValueError):
        PiecewiseConstant(*bad)


def test_linear_decay_is_flat_then_falls_linearly_to_zero_after_the_last_step():
    s = LinearDecay(total_steps=10, decay_from=0.6)  # flat for 6 steps, then (10 - step + 1) / 4
    assert [s(step) for step in range(1, 11)] == [1, 1, 1, 1, 1, 1, 1.0, 0.75, 0.5, 0.25]
    assert s(11) == 0.0
    assert [LinearDecay(4)(step) for step in range(1, 5)] == [1.0, 0.75, 0.5, 0.25]
    assert all(LinearDecay(4, decay_from=1.0)(step) == 1.0 for step in range(1, 6))
    with pytest.raises(ValueError, match="decay_from"):
        LinearDecay(10, decay_from=1.5)


def _pair(seed: int = 0) -> tuple[MLPGenerator, MLPDiscriminator]:
    torch.manual_seed(seed)
    return MLPGenerator(2, 2, (16,), tanh=False), MLPDiscriminator(2, (16,))


def _sample(n: int) -> torch.Tensor:
    return ring().sample(n)


def test_train_gan_sets_each_steps_learning_rate_from_the_schedule():
    # A factor of 0 at step 2 only: Adam's step is lr times its direction, so G and D stand still at
    # step 2 and move at steps 1 and 3.
    seen, weights = [], {}

    def schedule(step: int) -> float:
        seen.append(step)
        return 0.0 if step == 2 else 1.0

    def keep(step, G_now, D_now):
        weights[step] = [p.detach().clone() for p in [*G_now.parameters(), *D_now.parameters()]]

    G, D = _pair()
    train_gan(G, D, _sample, TrainConfig(steps=3, batch_size=8, lr_d=0.01, lr_g=0.01), lr_schedule=schedule,
              callback=keep, every=1, progress=False)
    assert seen == [1, 2, 3]
    moved = {step: any(not torch.equal(a, b) for a, b in zip(weights[step - 1], weights[step])) for step in (1, 2, 3)}
    assert moved == {1: True, 2: False, 3: True}


def test_a_schedule_of_zeros_leaves_the_networks_where_they_started():
    G, D = _pair()
    before = [p.detach().clone() for p in [*G.parameters(), *D.parameters()]]
    train_gan(G, D, _sample, TrainConfig(steps=3, batch_size=8), lr_schedule=lambda step: 0.0, progress=False)
    assert all(torch.equal(a, b) for a, b in zip(before, [*G.parameters(), *D.parameters()]))


def test_one_run_with_a_schedule_equals_the_same_rates_set_by_hand():
    # The schedule's rates at each step, applied by hand to a copy of the loop's optimisers' inputs:
    # a run whose rate is constant at lr * 0.2 from the start equals the schedule (0.2, 0.2, ...).
    G1, D1 = _pair()
    G2, D2 = _pair()
    config = TrainConfig(steps=3, batch_size=8, lr_d=1e-2, lr_g=1e-2)
    train_gan(G1, D1, _sample, config, lr_schedule=PiecewiseConstant((3, 0.25)), progress=False)
    train_gan(G2, D2, _sample, TrainConfig(steps=3, batch_size=8, lr_d=2.5e-3, lr_g=2.5e-3), progress=False)
    for a, b in zip(G1.parameters(), G2.parameters()):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-7)


def test_schedule_must_be_callable():
    G, D = _pair()
    with pytest.raises(TypeError, match="lr_schedule must be a function of the step"):
        train_gan(G, D, _sample, TrainConfig(steps=1, batch_size=8), lr_schedule=0.5, progress=False)


def test_ema_start_copies_g_until_then_and_averages_after():
    G, D = _pair()
    config = TrainConfig(steps=3, batch_size=8, ema_decay=0.5, ema_start=3)
    history = train_gan(G, D, _sample, config, progress=False)
    # Steps 1-3 are at or before ema_start: the EMA is an exact copy of G's final weights.
    for a, b in zip(history.ema_generator.parameters(), G.parameters()):
        assert torch.equal(a, b)
    G, D = _pair()
    snapshots = {}
    train_gan(G, D, _sample, TrainConfig(steps=2, batch_size=8), callback=lambda s, g, d: snapshots.update(
        {s: [p.detach().clone() for p in g.parameters()]}), every=1, progress=False)
    G, D = _pair()
    history = train_gan(G, D, _sample, TrainConfig(steps=2, batch_size=8, ema_decay=0.5, ema_start=1),
                        progress=False)
    # After step 1 the EMA copies G; after step 2 it is 0.5 * G_1 + 0.5 * G_2.
    for a, g1, g2 in zip(history.ema_generator.parameters(), snapshots[1], snapshots[2]):
        torch.testing.assert_close(a, 0.5 * g1 + 0.5 * g2)
    with pytest.raises(ValueError, match="ema_start"):
        TrainConfig(ema_start=-1)
