"""Distributed training on two CPU ranks (gloo): the ranks agree, and agree with one process.

One group of two processes (``torch.multiprocessing.spawn``) runs every check that needs a process
group and writes its numbers to JSON; the tests read them. References are computed by a plain
single-process model in the same worker, never by the code under test.
"""

from __future__ import annotations

import copy
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import TensorDataset

from gancourse.losses import gradient_penalty
from gancourse.models.conditional import (
    ConditionalMLPDiscriminator,
    ConditionalMLPGenerator,
)
from gancourse.models.mlp import MLPDiscriminator, MLPGenerator
from gancourse.training import (
    DiffAugmentSteps,
    GANSteps,
    R1Steps,
    TrainConfig,
    frozen,
    train_gan,
)
from gancourse.training.distributed import (
    TORCHRUN_VARIABLES,
    Ranks,
    ShardedBatches,
    check_consistency,
    check_ddp,
    init_distributed,
    teardown,
    wrap_gan,
)

REPO = Path(__file__).resolve().parents[1]
B = 16  # the batch of one rank; the single-process reference uses 2 * B


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pair() -> tuple[torch.nn.Module, torch.nn.Module]:
    torch.manual_seed(3)
    return MLPGenerator(4, 2, hidden=(16, 16), tanh=False), MLPDiscriminator(2, hidden=(16, 16))


def _flat_grad(module: torch.nn.Module) -> torch.Tensor:
    return torch.cat([p.grad.flatten() for p in module.parameters()])


def _flat(module: torch.nn.Module) -> torch.Tensor:
    return torch.cat([p.detach().flatten() for p in module.parameters()])


def _one_step(G, D, opt_g, opt_d, real, z, alpha) -> torch.Tensor | None:
    """One WGAN-GP D step and one G step, as train_gan does them; return D's penalty gradient alone
    (for a single-process D only: under DDP autograd.grad with respect to the weights is not reduced)."""
    fake = G(z)
    gp = gradient_penalty(D, real, fake.detach(), alpha=alpha)
    gp_grad = None
    if not isinstance(D, DistributedDataParallel):
        gp_grad = torch.cat([g.flatten() for g in torch.autograd.grad(gp, list(D.parameters()), retain_graph=True,
                                                                    allow_unused=True, materialize_grads=True)])
    loss_d = D(fake.detach()).mean() - D(real).mean() + 10 * gp
    opt_d.zero_grad()
    loss_d.backward()
    opt_d.step()
    with frozen(D):
        loss_g = -D(fake).mean()
    opt_g.zero_grad()
    loss_g.backward()
    opt_g.step()
    return gp_grad


def _static_graph_run(static_graph: bool, rank: int, penalty: bool = True) -> float:
    """Train a critic in plain DDP for 5 WGAN(-GP) steps (each rank its own data); return the ranks' difference."""
    torch.manual_seed(0)
    D = DistributedDataParallel(MLPDiscriminator(2, hidden=(32, 32)), static_graph=static_graph)
    opt = torch.optim.Adam(D.parameters(), 1e-3, betas=(0.0, 0.9))
    torch.manual_seed(10 + rank)
    for _ in range(5):
        real, fake = torch.randn(32, 2) + 1, torch.randn(32, 2)
        loss = D(fake).mean() - D(real).mean() + (10 * gradient_penalty(D, real, fake) if penalty else 0)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return check_consistency(Ranks(rank, 2, torch.device("cpu")), D)


class _FirstBatches(GANSteps):
    """The plain GAN's steps, remembering the first D step's real and fake batches."""

    def __init__(self) -> None:
        self.first: list[torch.Tensor] = []

    def d_step(self, G, D, real, cond, d_loss):
        step = super().d_step(G, D, real, cond, d_loss)
        if not self.first:
            self.first = [step.real.detach().clone(), step.fake.detach().clone()]
        return step


def _worker(rank: int, world_size: int, port: int, out: str) -> None:
    os.environ.update(RANK=str(rank), WORLD_SIZE=str(world_size), LOCAL_RANK=str(rank),
                      MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), OMP_NUM_THREADS="1")
    torch.set_num_threads(1)
    ranks = init_distributed()
    found: dict[str, object] = {}

    # (1) Two ranks with batch B against one process with batch 2B, after one D step and one G step.
    G_ref, D_ref = _pair()
    G, D = wrap_gan(*copy.deepcopy(_pair()), ranks, penalty=True)
    data = torch.Generator().manual_seed(5)
    real, z, alpha = torch.randn(2 * B, 2, generator=data), torch.randn(2 * B, 4, generator=data), \
        torch.rand(2 * B, generator=data)
    mine = slice(rank * B, (rank + 1) * B)
    opts = [torch.optim.Adam(m.parameters(), 1e-3, betas=(0.0, 0.9)) for m in (G_ref, D_ref, G, D)]
    gp_ref = _one_step(G_ref, D_ref, opts[0], opts[1], real, z, alpha)
    fake = G(z[mine]).detach()

    def d_grad(penalty: bool) -> torch.Tensor:
        """D's averaged gradient: one ordinary backward (after autograd.grad on the inputs, with the penalty)."""
        D.zero_grad()
        loss = D(fake).mean() - D(real[mine]).mean()
        if penalty:
            loss = loss + gradient_penalty(D, real[mine], fake, alpha=alpha[mine])
        loss.backward()
        return _flat_grad(D)

    # The penalty's gradient under DDP: with it minus without it (a penalty alone leaves D's last bias
    # without a gradient, which DDP's reducer cannot finish).
    found["gp_grad_vs_reference"] = float((d_grad(True) - d_grad(False) - gp_ref).abs().max())
    found["gp_grad_norm"] = float(gp_ref.norm())
    _one_step(G, D, opts[2], opts[3], real[mine], z[mine], alpha[mine])
    found["b_vs_2b_D"] = float((_flat(D) - _flat(D_ref)).abs().max())
    found["b_vs_2b_G"] = float((_flat(G) - _flat(G_ref)).abs().max())
    found["one_step_change"] = float((_flat(D) - _flat(_pair()[1])).abs().max())

    # (2) train_gan: each rank starts from its own random weights; after k steps G, D and the EMA agree.
    torch.manual_seed(100 + rank)
    G, D = wrap_gan(MLPGenerator(4, 2, hidden=(16, 16), tanh=False), MLPDiscriminator(2, hidden=(16, 16)),
                    ranks, penalty=True)
    config = TrainConfig(steps=6, batch_size=B, loss="wasserstein", gp_weight=10.0, n_critic=2, lr_d=1e-3,
                         lr_g=1e-3, betas=(0.0, 0.9), ema_decay=0.9, seed=1)
    points = torch.randn(256, 2, generator=torch.Generator().manual_seed(0))
    seen: list[int] = []
    variant = _FirstBatches()
    history = train_gan(G, D, points, config, ranks=ranks, progress=False, every=3, variant=variant,
                        callback=lambda step, g, d: seen.append(step),
                        checkpoint=Path(out) / "run.safetensors", checkpoint_every=3)
    found["train_G"], found["train_D"] = check_consistency(ranks, G), check_consistency(ranks, D)
    found["train_EMA"] = check_consistency(ranks, history.ema_generator)
    found["d_loss"] = history.d_loss
    found["callback_steps"] = seen
    # Each rank its own real samples and its own noise: the first batches differ between the ranks.
    found["first_real_spread"], found["first_fake_spread"] = (check_consistency(ranks, torch.nn.ParameterList(
        [torch.nn.Parameter(t)])) for t in variant.first)
    found["ema_vs_G"] = float((_flat(history.ema_generator) - _flat(G.module)).abs().max())
    # A G with BatchNorm on the CPU: each rank normalises its own batch; the running statistics
    # (and so the EMA's) are rank 0's everywhere.
    torch.manual_seed(400 + rank)
    G_bn, D_bn = wrap_gan(MLPGenerator(4, 2, hidden=(16, 16), tanh=False, batch_norm=True),
                          MLPDiscriminator(2, hidden=(16, 16)), ranks, penalty=True)
    bn_history = train_gan(G_bn, D_bn, points, TrainConfig(**{**config.__dict__, "steps": 3}), ranks=ranks,
                           progress=False)
    found["batch_norm_G"] = check_consistency(ranks, G_bn, bn_history.ema_generator)
    found["batch_norm_stats_moved"] = float(G_bn.module.net[1].running_var.sub(1).abs().max())
    # A conditional GAN on a labelled Dataset (each rank its shard of (image, label) pairs), with lazy R1.
    torch.manual_seed(500 + rank)
    G_c, D_c = wrap_gan(ConditionalMLPGenerator(4, 3, 2, hidden=(16,)), ConditionalMLPDiscriminator(2, 3, hidden=(16,)),
                        ranks, penalty=True)
    pairs = TensorDataset(points, torch.arange(256) % 3)
    train_gan(G_c, D_c, pairs, TrainConfig(steps=3, batch_size=B, gp_weight=5.0), variant=R1Steps(2), ranks=ranks,
              progress=False)
    found["conditional_r1"] = check_consistency(ranks, G_c, D_c)
    # Resume from step 3 of the same run: the same weights as the uninterrupted one at step 6.
    weights_at_6 = _flat(D.module)
    torch.manual_seed(100 + rank)  # the same start as the straight run
    G2, D2 = wrap_gan(MLPGenerator(4, 2, hidden=(16, 16), tanh=False), MLPDiscriminator(2, hidden=(16, 16)),
                      ranks, penalty=True)
    if rank == 0:
        Path(out, "run.safetensors").unlink()
    ranks.barrier()
    train_gan(G2, D2, points, TrainConfig(**{**config.__dict__, "steps": 3}), ranks=ranks, progress=False,
              checkpoint=Path(out) / "run.safetensors")
    torch.manual_seed(300 + rank)
    G3, D3 = wrap_gan(MLPGenerator(4, 2, hidden=(16, 16), tanh=False), MLPDiscriminator(2, hidden=(16, 16)),
                      ranks, penalty=True)
    train_gan(G3, D3, points, config, ranks=ranks, progress=False, checkpoint=Path(out) / "run.safetensors",
              resume=True)
    found["resumed_vs_straight"] = float((_flat(D3.module) - weights_at_6).abs().max())

    # (3) The check can fail: nudge one weight on rank 1 only.
    with torch.no_grad():
        if rank == 1:
            next(D.module.parameters()).view(-1)[0] += 1e-3
    found["nudged"] = check_consistency(ranks, G, D)

    # (4) The guard, and what it guards against.
    static = DistributedDataParallel(MLPDiscriminator(2, hidden=(8,)), static_graph=True)
    try:
        check_ddp(G, static, penalty=True)
        found["guard"] = ""
    except ValueError as err:
        found["guard"] = str(err)
    try:
        check_ddp(G, D, penalty=True, variant=DiffAugmentSteps(ada_target=0.6))
        found["ada_guard"] = ""
    except ValueError as err:
        found["ada_guard"] = str(err)
    found["static_graph"], found["default_graph"] = _static_graph_run(True, rank), _static_graph_run(False, rank)
    found["static_graph_no_penalty"] = _static_graph_run(True, rank, penalty=False)
    Path(out, f"rank{rank}.json").write_text(json.dumps(found))
    teardown()


@pytest.fixture(scope="module")
def two_ranks(tmp_path_factory) -> dict[int, dict]:
    out = tmp_path_factory.mktemp("ddp")
    started = time.perf_counter()
    context = mp.spawn(_worker, args=(2, _free_port(), str(out)), nprocs=2, join=False)
    while not context.join(timeout=5):
        if time.perf_counter() - started > 180:
            for process in context.processes:
                process.kill()
            pytest.fail("the two ranks did not finish within 180 s (a collective waiting forever?)")
    found = {r: json.loads((out / f"rank{r}.json").read_text()) for r in range(2)}
    print("two gloo ranks, largest differences:", {k: v for k, v in found[0].items() if isinstance(v, float)})
    return found


def test_two_ranks_with_batch_b_match_one_process_with_batch_2b(two_ranks):
    for found in two_ranks.values():
        assert found["one_step_change"] > 1e-4  # the step moved the weights: the comparison means something
        assert found["b_vs_2b_D"] <= 1e-6 and found["b_vs_2b_G"] <= 1e-6, found


def test_the_penalty_gradient_under_ddp_matches_one_process(two_ranks):
    for found in two_ranks.values():
        assert found["gp_grad_norm"] > 1e-3
        assert found["gp_grad_vs_reference"] <= 1e-6, found


def test_train_gan_keeps_g_d_and_the_ema_identical_across_ranks(two_ranks):
    for found in two_ranks.values():
        assert found["train_G"] == found["train_D"] == found["train_EMA"] == 0.0, found
        assert found["ema_vs_G"] > 0  # the EMA averaged (it is not simply a copy of G)
    assert two_ranks[0]["d_loss"] == two_ranks[1]["d_loss"]  # the logged losses are the ranks' mean
    assert two_ranks[0]["callback_steps"] == [0, 3, 6] and two_ranks[1]["callback_steps"] == []


def test_each_rank_reads_its_own_data_and_draws_its_own_noise(two_ranks):
    assert two_ranks[0]["first_real_spread"] > 0.1 and two_ranks[0]["first_fake_spread"] > 0.01, two_ranks[0]


def test_batch_norm_in_g_keeps_the_ranks_and_the_ema_identical(two_ranks):
    for found in two_ranks.values():
        assert found["batch_norm_stats_moved"] > 1e-3  # the running statistics did move
        assert found["batch_norm_G"] == 0.0, found


def test_a_conditional_gan_with_lazy_r1_keeps_the_ranks_identical(two_ranks):
    for found in two_ranks.values():
        assert found["conditional_r1"] == 0.0, found


def test_a_distributed_run_resumes_exactly(two_ranks):
    for found in two_ranks.values():
        assert found["resumed_vs_straight"] == 0.0, found


def test_the_consistency_check_sees_one_rank_differ(two_ranks):
    assert two_ranks[0]["nudged"] == pytest.approx(1e-3, rel=1e-3)


def test_static_graph_with_a_penalty_disagrees_silently_so_it_is_refused(two_ranks):
    for found in two_ranks.values():
        assert found["default_graph"] == found["static_graph_no_penalty"] == 0.0  # the penalty is the culprit
        assert found["static_graph"] > 1e-4, found  # no error, and yet the ranks hold different weights
        assert "static_graph=True cannot be combined with a gradient penalty" in found["guard"]
    with pytest.raises(ValueError, match="drift apart with NO error"):
        wrap_gan(*_pair(), Ranks(0, 2, torch.device("cpu")), penalty=True, static_graph=True)


def test_adaptive_augmentation_is_refused_because_its_p_would_differ_per_rank(two_ranks):
    assert "ranks' p would drift apart" in two_ranks[0]["ada_guard"]


def test_batch_norm_in_d_is_refused_on_the_cpu():
    D = MLPDiscriminator(2, hidden=(8,), norm="batch")
    with pytest.raises(ValueError, match="SyncBatchNorm works on CUDA only"):
        wrap_gan(MLPGenerator(4, 2, hidden=(8,)), D, Ranks(0, 2, torch.device("cpu")), penalty=False)


@pytest.mark.parametrize("missing", TORCHRUN_VARIABLES)
def test_without_torchrun_the_error_names_what_is_missing(monkeypatch, missing):
    for name in TORCHRUN_VARIABLES:
        monkeypatch.setenv(name, "0" if name != "MASTER_ADDR" else "127.0.0.1")
    monkeypatch.delenv(missing)
    with pytest.raises(RuntimeError, match=f"missing: {missing}.*torchrun --nproc_per_node"):
        init_distributed()
    assert not dist.is_initialized()


def test_sharded_batches_split_the_data_and_set_epoch_reshuffles():
    data = torch.arange(40.0).unsqueeze(1)
    shards = [ShardedBatches(data, 4, Ranks(r, 2, torch.device("cpu")), seed=0) for r in range(2)]
    # passes[rank][epoch]: the values one rank reads in one pass (5 batches of 4 = its 20 samples)
    passes = [[torch.cat([next(s) for _ in range(5)]).flatten().tolist() for _ in range(2)] for s in shards]
    for epoch in range(2):
        assert sorted(passes[0][epoch] + passes[1][epoch]) == list(range(40))  # disjoint halves, all covered
    for rank in range(2):
        assert passes[rank][0] != passes[rank][1]  # set_epoch: each pass a new order
    assert [s.epoch for s in shards] == [1, 1]
    # Without set_epoch, DistributedSampler repeats its order: why ShardedBatches calls it.
    sampler = shards[0].sampler
    sampler.set_epoch(7)
    assert list(sampler) == list(sampler)


def test_the_selftest_command_line_passes_on_two_cpu_ranks():
    path = str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": path}
    for name in TORCHRUN_VARIABLES:
        env.pop(name, None)
    result = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", f"--master_port={_free_port()}",
         "-m", "gancourse.training.distributed", "--selftest", "--steps", "4"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "G 0, D 0, EMA 0 -> identical" in result.stdout, result.stdout


def test_the_command_line_exits_non_zero_when_the_ranks_disagree_or_torchrun_is_missing(monkeypatch, capsys):
    from gancourse.training import distributed

    monkeypatch.setattr(distributed, "selftest", lambda steps, tolerance: 0.47)
    assert distributed.main(["--selftest"]) == 1
    monkeypatch.setattr(distributed, "selftest", lambda steps, tolerance: 0.0)
    assert distributed.main(["--selftest"]) == 0
    monkeypatch.undo()
    for name in TORCHRUN_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    assert distributed.main(["--selftest"]) == 2
    assert "torchrun --nproc_per_node" in capsys.readouterr().err
