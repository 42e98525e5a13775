"""One WGAN-GP critic step of Chapter 4's grouped toy models: autograd's double backward against the explicit chain.

``GroupedMLP.input_gradient`` computes a LeakyReLU critic's input gradient as the chain
W_1^T S_1 ... w_L (slopes S_i from a forward pass without autograd), so the penalty's backward pass
differentiates only that chain. The reference is the usual code, ``torch.autograd.grad(D(x_hat).sum(),
x_hat, create_graph=True)``; the rest of the step is the same. Both sides run the
same critic (ring and grid as one group of two, 3 x 128 LeakyReLU units, batches of 256) from the
same weights on the same batches, interleaved round by round; the script checks that both give the
same penalty gradient, then prints the median step times and their ratio.

    python benchmarks/toy_penalty_step.py             # one thread, as scripts/train_toy_models.py trains
    python benchmarks/toy_penalty_step.py --threads 2
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from gancourse.models import MLPDiscriminator  # noqa: E402
from gancourse.models import GroupedMLP  # noqa: E402

LAMBDA = 10.0


def reference_step(D: GroupedMLP, real: torch.Tensor, fake: torch.Tensor, alpha: torch.Tensor) -> None:
    """Critic loss and penalty as most WGAN-GP code writes them; gradients accumulate in D."""
    loss = D(fake).mean(dim=(1, 2)).sum() - D(real).mean(dim=(1, 2)).sum()
    x_hat = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(D(x_hat).sum(), x_hat, create_graph=True)
    (loss + LAMBDA * ((grad.norm(dim=2) - 1) ** 2).mean(dim=1).sum()).backward()


def chain_step(D: GroupedMLP, real: torch.Tensor, fake: torch.Tensor, alpha: torch.Tensor) -> None:
    """The same loss, as ``train_grouped`` computes it: the penalty through the explicit chain."""
    loss = D(fake).mean(dim=(1, 2)).sum() - D(real).mean(dim=(1, 2)).sum()
    grad = D.input_gradient(alpha * real + (1 - alpha) * fake)
    (loss + LAMBDA * ((grad.norm(dim=2) - 1) ** 2).mean(dim=1).sum()).backward()


def timed(step: Callable[..., None], D: GroupedMLP, batches: list[tuple[torch.Tensor, ...]]) -> float:
    """Return the seconds one call of ``step`` takes per batch, over ``batches``."""
    start = time.perf_counter()
    for real, fake, alpha in batches:
        D.zero_grad(set_to_none=True)
        step(D, real, fake, alpha)
    return (time.perf_counter() - start) / len(batches)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--members", type=int, default=2)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--width", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--steps", type=int, default=100, help="critic steps per round and side")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    M, B = args.members, args.batch
    D = GroupedMLP([MLPDiscriminator(2, (args.width,) * 3) for _ in range(M)])
    batches = [(torch.randn(M, B, 2) * 2, torch.randn(M, B, 2) * 2, torch.rand(M, B, 1)) for _ in range(args.steps)]

    # Same gradients first (float32 rounding apart).
    grads = []
    for step in (reference_step, chain_step):
        D.zero_grad(set_to_none=True)
        step(D, *batches[0])
        grads.append(torch.cat([p.grad.flatten() for p in D.parameters()]))
    scale = grads[0].abs().max().item()
    assert (grads[0] - grads[1]).abs().max().item() <= 1e-4 * scale, "the two steps disagree"

    times: dict[str, list[float]] = {"reference": [], "chain": []}
    for r in range(args.rounds):
        order = [("reference", reference_step), ("chain", chain_step)]
        for name, step in order if r % 2 == 0 else order[::-1]:
            times[name].append(timed(step, D, batches))
    ref, new = statistics.median(times["reference"]), statistics.median(times["chain"])
    print(f"WGAN-GP critic step, {M} members x {B} samples, 3 x {args.width} LeakyReLU, {args.threads} thread(s):")
    print(f"  penalty by autograd's double backward: {ref * 1e3:6.2f} ms")
    print(f"  penalty by the explicit chain:         {new * 1e3:6.2f} ms")
    print(f"  ratio: {ref / new:.2f}x faster")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
