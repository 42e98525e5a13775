"""Training on many processes with PyTorch's DistributedDataParallel (DDP), one process per rank.

Run a script under ``torchrun --nproc_per_node=N script.py`` (NCCL on GPUs, gloo on the CPU)::

    ranks = init_distributed()                       # reads RANK, WORLD_SIZE, ... set by torchrun
    G, D = wrap_gan(G.to(ranks.device), D.to(ranks.device), ranks, penalty=config.gp_weight > 0)
    history = train_gan(G, D, data, config, ranks=ranks)   # the course's one loop
    teardown()

``train_gan`` with ``ranks`` then follows the rules GAN training needs under DDP:
- every rank starts from rank 0's weights (DDP broadcasts them when it wraps a module);
- each rank draws its own noise and augmentation (torch's RNG seeded with ``config.seed + rank``)
  and reads its own shard of a tensor or Dataset (``ShardedBatches``: a ``DistributedSampler``
  with ``set_epoch`` at every pass); ``config.batch_size`` is the batch of ONE rank;
- the gradient penalty and R1 take ``torch.autograd.grad(..., create_graph=True)`` with respect to
  the inputs, then D's loss has one ordinary backward, whose gradients DDP averages;
- D is frozen during the G step, so G's backward reduces G's gradients only;
- the logged losses are averaged across ranks; the EMA of G is updated from identical weights, so
  it is identical on every rank; checkpoints and the callback run on rank 0 after a barrier.

What it refuses, with a message: ``static_graph=True`` together with a penalty (the ranks then
disagree silently, from the first step on, and drift further apart), BatchNorm in
D on the CPU (``SyncBatchNorm`` needs CUDA; without it each rank normalises its own batch).
``check_consistency`` gathers G, D and the EMA from every rank and returns the largest
difference, as NVIDIA's StyleGAN code checks; ``python -m gancourse.training.distributed --selftest``
(under torchrun) trains a small WGAN-GP and exits non-zero when the ranks disagree.

A variant's steps must call ``G(...)`` and ``D(...)``, not their submodules or methods: only the DDP
wrapper's forward prepares the gradient reduction (``GroupedSteps``' ``D.input_gradient`` would bypass
it, so the grouped toy GANs are not for distributed runs).
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import Dataset, DistributedSampler

from gancourse.training.batches import Data, RealBatches

__all__ = ["Ranks", "RankRandomState", "init_distributed", "teardown", "GANParallel", "wrap_gan", "unwrap",
           "ShardedBatches", "sharded_batches", "check_ddp", "check_consistency", "selftest", "TORCHRUN_VARIABLES"]

TORCHRUN_VARIABLES = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")
STATIC_GRAPH_WITH_PENALTY = (
    "static_graph=True cannot be combined with a gradient penalty or R1: with the penalty's double backward "
    "(torch.autograd.grad(..., create_graph=True)) DDP's static-graph mode does not reduce the gradients as "
    "the default mode does, and the ranks' weights drift apart with NO error (two CPU ranks training a "
    "small WGAN-GP critic differed by 0.002 after one step, 0.026 after 50, 0.11 after 200; without the "
    "penalty they agree exactly). Leave static_graph=False (the default): it gives the same gradients as "
    "one process.")


@dataclass(frozen=True)
class Ranks:
    """This process's place in the run: its rank, how many ranks, its device; collectives for the loop."""

    rank: int
    world_size: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        """Return whether this is rank 0, the one that writes checkpoints, samples and logs."""
        return self.rank == 0

    def barrier(self) -> None:
        """Wait until every rank gets here."""
        if self.device.type == "cuda":
            dist.barrier(device_ids=[self.device.index])
        else:
            dist.barrier()

    def mean(self, values: torch.Tensor) -> torch.Tensor:
        """Return the element-wise mean of ``values`` over the ranks (every rank passes the same shape)."""
        values = values.detach().to(self.device, torch.float32).clone()
        dist.all_reduce(values, op=dist.ReduceOp.SUM)
        return (values / self.world_size).to("cpu")

    def gather(self, vector: torch.Tensor) -> torch.Tensor:
        """Return the 1-d ``vector`` of every rank stacked in rank order, shape (world_size, n)."""
        vector = vector.detach().to(self.device).flatten().contiguous()
        out = [torch.empty_like(vector) for _ in range(self.world_size)]
        dist.all_gather(out, vector)
        return torch.stack(out).cpu()

    def sync_buffers(self, module: nn.Module) -> None:
        """Copy rank 0's buffers (BatchNorm's running statistics) into ``module`` on every rank."""
        for buffer in module.buffers():
            dist.broadcast(buffer.data, src=0)

    def gather_rng(self) -> list[dict[str, torch.Tensor]]:
        """Return every rank's random state (CPU, and this rank's CUDA device), in rank order."""
        mine = {"cpu": torch.get_rng_state()}
        if self.device.type == "cuda":
            mine["cuda"] = torch.cuda.get_rng_state(self.device)
        states: list[object] = [None] * self.world_size
        dist.all_gather_object(states, mine)
        return states  # type: ignore[return-value]

    def set_rng(self, states: list[dict[str, torch.Tensor]]) -> None:
        """Restore this rank's random state from the list ``gather_rng`` returned."""
        if len(states) != self.world_size:
            raise ValueError(f"the checkpoint holds the random state of {len(states)} ranks, this run has "
                             f"{self.world_size}: resume with --nproc_per_node={len(states)}")
        torch.set_rng_state(states[self.rank]["cpu"])
        if self.device.type == "cuda" and "cuda" in states[self.rank]:
            torch.cuda.set_rng_state(states[self.rank]["cuda"], self.device)


class RankRandomState:
    """Every rank's random state, gathered before a checkpoint; on resume each rank takes its own back."""

    def __init__(self, ranks: Ranks) -> None:
        self.ranks, self.states = ranks, []  # type: ignore[var-annotated]

    def gather(self) -> None:
        """Collect every rank's random state now (a collective: every rank calls it)."""
        self.states = self.ranks.gather_rng()

    def state_dict(self) -> dict[str, object]:
        """Return the gathered states, in rank order."""
        return {"states": self.states}

    def load_state_dict(self, state: dict[str, object]) -> None:
        """Set this rank's random state from a saved ``state_dict()``."""
        self.ranks.set_rng(state["states"])  # type: ignore[arg-type]


def init_distributed(backend: str | None = None, timeout_s: float = 300.0) -> Ranks:
    """Join the process group that torchrun set up (its environment variables); return this rank.

    ``backend``: 'nccl' when CUDA is available, else 'gloo'. On CUDA each rank takes the GPU
    ``LOCAL_RANK``. Raises a RuntimeError naming the missing variables when not run by torchrun.
    """
    missing = [name for name in TORCHRUN_VARIABLES if name not in os.environ]
    if missing:
        raise RuntimeError(
            f"distributed training needs the environment variables torchrun sets; missing: {', '.join(missing)}. "
            "Start the script with `torchrun --nproc_per_node=2 script.py` (or `python -m "
            "torch.distributed.run --nproc_per_node=2 script.py`), one process per rank.")
    rank, world_size, local_rank = (int(os.environ[k]) for k in ("RANK", "WORLD_SIZE", "LOCAL_RANK"))
    cuda = torch.cuda.is_available() and backend != "gloo"
    backend = backend or ("nccl" if cuda else "gloo")
    device = torch.device("cuda", local_rank) if cuda else torch.device("cpu")
    if cuda:
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group(backend, rank=rank, world_size=world_size,
                                timeout=datetime.timedelta(seconds=timeout_s),
                                device_id=device if cuda else None)
    return Ranks(rank, world_size, device)


def teardown() -> None:
    """Leave the process group (every rank calls it at the end of the run)."""
    if dist.is_initialized():
        dist.destroy_process_group()


class GANParallel(DistributedDataParallel):
    """``DistributedDataParallel`` that also answers for the wrapped module's attributes (``G.z_dim``)."""

    def __getattr__(self, name: str) -> object:
        try:
            return super().__getattr__(name)
        except AttributeError:
            if name == "module":
                raise
            return getattr(self.module, name)


def unwrap(module: nn.Module) -> nn.Module:
    """Return the module inside a DDP wrapper (the module itself otherwise)."""
    return module.module if isinstance(module, DistributedDataParallel) else module


def _has_batch_norm(module: nn.Module) -> bool:
    return any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in module.modules())


def wrap_gan(G: nn.Module, D: nn.Module, ranks: Ranks, *, penalty: bool,
             static_graph: bool = False, find_unused_parameters: bool = False) -> tuple[GANParallel, GANParallel]:
    """Return G and D (already on ``ranks.device``) wrapped in DDP, with rank 0's weights on every rank.

    ``penalty``: whether D's loss has a gradient penalty or R1 (then ``static_graph`` is refused).
    On CUDA, BatchNorm layers become ``SyncBatchNorm`` (statistics over the whole global batch); on
    the CPU, BatchNorm in D is refused and BatchNorm in G normalises each rank's own batch (``train_gan``
    then gives every rank rank 0's running statistics after each step, as DDP does at each forward).
    """
    if static_graph and penalty:
        raise ValueError(STATIC_GRAPH_WITH_PENALTY)
    nets = {}
    for name, net in (("G", G), ("D", D)):  # every check before the first wrap (which is a collective)
        if isinstance(net, DistributedDataParallel):
            raise TypeError(f"{name} is already wrapped in DDP: pass the bare module")
        if next(net.parameters()).device != ranks.device:
            raise ValueError(f"{name} is on {next(net.parameters()).device}, this rank's device is {ranks.device}: "
                             f"move it first, {name}.to(ranks.device)")
        if _has_batch_norm(net):
            if ranks.device.type == "cuda":
                net = nn.SyncBatchNorm.convert_sync_batchnorm(net)
            elif name == "D":
                raise ValueError(
                    "D has BatchNorm, and SyncBatchNorm works on CUDA only: on the CPU each rank would "
                    "normalise its own half-batch, so the run would differ from one process (and a "
                    "penalty needs a per-sample critic anyway). Use norm='layer' or no normalisation in D.")
        nets[name] = net
    ids = [ranks.device.index] if ranks.device.type == "cuda" else None
    G, D = (GANParallel(nets[name], device_ids=ids, static_graph=static_graph,
                        find_unused_parameters=find_unused_parameters) for name in ("G", "D"))
    return G, D  # type: ignore[return-value]


def check_ddp(G: nn.Module, D: nn.Module, penalty: bool, variant: object = None) -> None:
    """Raise if G, D or the variant would make the ranks disagree (or fail) in a distributed run."""
    for name, net in (("G", G), ("D", D)):
        if not isinstance(net, DistributedDataParallel):
            raise TypeError(f"with ranks, {name} must be wrapped in DDP: G, D = wrap_gan(G, D, ranks, penalty=...)")
    if penalty and getattr(D, "static_graph", False):
        raise ValueError(STATIC_GRAPH_WITH_PENALTY)
    if getattr(variant, "ada_target", None) is not None:
        raise ValueError("ADA's augmentation probability adapts to each rank's own D outputs, so the ranks' p "
                         "would drift apart (StyleGAN2-ADA averages the overfitting signal over the ranks, which "
                         "this trainer does not): use a fixed p (ada_target=None) in a distributed run")
    if type(variant).__name__ == "GroupedSteps":
        raise ValueError("GroupedSteps calls D.input_gradient, which bypasses the DDP wrapper's forward: the "
                         "grouped toy GANs train in one process")


class ShardedBatches(RealBatches):
    """Real batches of this rank's shard of a tensor or Dataset: a ``DistributedSampler``, new order each pass.

    Every rank shuffles with the same ``seed`` and epoch, so the shards are disjoint; ``set_epoch``
    at every pass makes each pass's order new (without it every pass repeats the first one's).
    """

    def __init__(self, data: torch.Tensor | Dataset, batch_size: int, ranks: Ranks, *, labels: bool = False,
                 seed: int = 0) -> None:
        super().__init__(data, batch_size, labels=labels)
        self.sampler = DistributedSampler(data, num_replicas=ranks.world_size, rank=ranks.rank,  # type: ignore[arg-type]
                                          shuffle=True, seed=seed, drop_last=True)
        if self.sampler.num_samples < batch_size:
            raise ValueError(f"each of the {ranks.world_size} ranks gets {self.sampler.num_samples} samples, fewer "
                             f"than batch_size={batch_size} (the batch of one rank)")
        self.epoch = -1

    def new_order(self) -> torch.Tensor:
        """Return the next pass's indices of this rank's shard."""
        self.epoch += 1
        self.sampler.set_epoch(self.epoch)
        return torch.tensor(list(self.sampler))

    def state_dict(self) -> dict[str, object]:
        """Return the place in the data: the epoch and the position in it (the same on every rank)."""
        return {"epoch": self.epoch, "position": self.position}

    def load_state_dict(self, state: dict[str, object]) -> None:
        """Continue from a place returned by ``state_dict()`` (possibly saved by another rank)."""
        # Not the order itself: rank 0 writes the checkpoint, and each rank's shard is its own.
        epoch, self.position = int(state["epoch"]), int(state["position"])  # type: ignore[call-overload]
        self.epoch = epoch - 1
        self.order = self.new_order() if epoch >= 0 else None  # new_order() moves on to `epoch`


def sharded_batches(data: Data, batch_size: int, ranks: Ranks, *, labels: bool = False,
                    seed: int = 0) -> RealBatches:
    """Return this rank's batches: a shard of a tensor or Dataset, or its own draws from a sampler."""
    if isinstance(data, (torch.Tensor, Dataset)):
        return ShardedBatches(data, batch_size, ranks, labels=labels, seed=seed)
    return RealBatches(data, batch_size, labels=labels)  # a sampler draws from this rank's own RNG


def check_consistency(ranks: Ranks, *modules: nn.Module | None) -> float:
    """Return the largest difference, over all ranks, of the parameters and buffers of ``modules``.

    Every rank passes its own copies (e.g. G, D, the EMA); each is flattened into one vector and
    gathered. 0.0 means every rank holds exactly the same weights.
    """
    parts = [t.detach().float().flatten() for m in modules if m is not None
             for t in (*unwrap(m).parameters(), *unwrap(m).buffers()) if t.is_floating_point()]
    everyone = ranks.gather(torch.cat(parts))
    return float((everyone - everyone[0]).abs().max())


def selftest(steps: int = 10, *, tolerance: float = 1e-6, report: Callable[[str], None] = print) -> float:
    """Train a small WGAN-GP with ``train_gan`` on every rank; return the largest cross-rank difference.

    Call it on every rank of a process group that torchrun started (it joins and leaves the group).
    Each rank builds its networks from a different seed, so the check also shows that DDP starts
    every rank from rank 0's weights. Rank 0 reports the difference of G, D and the EMA.
    """
    # Imported here: only the self-test needs them (and the loop imports this module when it runs).
    from gancourse.models.mlp import MLPDiscriminator, MLPGenerator
    from gancourse.training.config import TrainConfig
    from gancourse.training.loop import train_gan

    ranks = init_distributed()
    try:
        torch.manual_seed(1234 + ranks.rank)  # different initial weights: DDP must broadcast rank 0's
        G = MLPGenerator(8, 2, hidden=(32, 32), tanh=False).to(ranks.device)
        D = MLPDiscriminator(2, hidden=(32, 32)).to(ranks.device)
        data = torch.randn(1024, 2, generator=torch.Generator().manual_seed(0)) * 0.5 + 1.0
        config = TrainConfig(steps=steps, batch_size=32, loss="wasserstein", gp_weight=10.0, n_critic=2,
                             lr_d=1e-3, lr_g=1e-3, betas=(0.0, 0.9), ema_decay=0.9, seed=7)
        G, D = wrap_gan(G, D, ranks, penalty=True)
        history = train_gan(G, D, data, config, ranks=ranks, progress=False)
        differences = {name: check_consistency(ranks, m)
                       for name, m in (("G", G), ("D", D), ("EMA", history.ema_generator))}
        largest = max(differences.values())
        if ranks.is_main:
            verdict = "identical" if largest <= tolerance else f"DISAGREE (tolerance {tolerance:g})"
            report(f"selftest: {ranks.world_size} ranks on {ranks.device}, {steps} steps of WGAN-GP; largest "
                   f"difference across ranks: " + ", ".join(f"{k} {v:.3g}" for k, v in differences.items())
                   + f" -> {verdict}")
        return largest
    finally:
        teardown()


def main(argv: list[str] | None = None) -> int:
    """The command line: ``torchrun --nproc_per_node=2 -m gancourse.training.distributed --selftest``."""
    parser = argparse.ArgumentParser(prog="python -m gancourse.training.distributed", description=__doc__.split("\n")[0])
    parser.add_argument("--selftest", action="store_true", help="train a small WGAN-GP, compare the ranks' weights")
    parser.add_argument("--steps", type=int, default=10, help="generator steps of the self-test (default 10)")
    parser.add_argument("--tolerance", type=float, default=1e-6, help="largest difference that passes")
    args = parser.parse_args(argv)
    if not args.selftest:
        parser.print_help()
        return 2
    try:
        largest = selftest(args.steps, tolerance=args.tolerance)
    except RuntimeError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0 if largest <= args.tolerance else 1


if __name__ == "__main__":
    sys.exit(main())
