"""Train the course's DCGAN or WGAN-GP on one process or on N ranks, and print the time per step.

One command per set-up, the same script; compare the two lines it prints to see the speed-up::

    python scripts/train_distributed.py --steps 200                       # one process
    torchrun --nproc_per_node=4 scripts/train_distributed.py --steps 200  # 4 ranks (GPUs)

Under torchrun each rank takes one GPU (NCCL; gloo on the CPU) and ``--batch-size`` is the batch of
ONE rank, so N ranks see N times more samples per step: compare ``samples_per_s``. The data is the
quick profile's glyphs (28 x 28, offline) unless ``--data celeba`` (64 x 64 faces, downloaded once:
the full profile's default, ``GANCOURSE_PROFILE=full``). ``--model wgan-gp`` (default) trains a
critic with layer norm and the gradient penalty; ``--model dcgan`` the non-saturating DCGAN, whose D
has BatchNorm: ``SyncBatchNorm`` on GPUs, no normalisation on the CPU (where SyncBatchNorm is not
available). The time per step is measured after ``--warmup`` steps (CUDA kernels, allocator), and
the last line is JSON, with the largest difference of G and D across the ranks (0: they agree).
"""

from __future__ import annotations

import argparse
import json
import os
import time

import torch

import gancourse
from gancourse.models import DCGANDiscriminator, DCGANGenerator
from gancourse.training import TrainConfig, train_gan
from gancourse.training.distributed import check_consistency, init_distributed, teardown, wrap_gan


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Return the command line's options (defaults from the profile: glyphs quick, CelebA full)."""
    full = gancourse.profile().full
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", choices=("wgan-gp", "dcgan"), default="wgan-gp")
    parser.add_argument("--data", choices=("glyphs", "celeba"), default="celeba" if full else "glyphs")
    parser.add_argument("--steps", type=int, default=200, help="generator steps (default 200)")
    parser.add_argument("--warmup", type=int, default=None,
                        help="steps left out of the timing (default: a fifth of --steps)")
    parser.add_argument("--batch-size", type=int, default=64, help="the batch of ONE rank (default 64)")
    parser.add_argument("--n-train", type=int, default=None,
                        help="training images (default 10,000 glyphs, 30,000 faces)")
    parser.add_argument("--width", type=int, default=None, help="networks' width (default 32; 64 on CelebA)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.steps < 2:
        parser.error("--steps must be at least 2")
    args.warmup = args.steps // 5 if args.warmup is None else args.warmup
    if not 0 <= args.warmup < args.steps:
        parser.error("--warmup must lie in [0, --steps)")
    return args


def load_images(args: argparse.Namespace) -> torch.Tensor:
    """Return the training images, (n, channels, size, size) in [-1, 1]."""
    if args.data == "glyphs":
        from gancourse.data.glyphs import GlyphDataset

        return GlyphDataset(args.n_train or 10_000, seed=0).images
    from gancourse.data.real import celeba  # downloads on first use (rank 0 first: see main)

    faces = celeba(split="train", image_size=64)
    n = min(args.n_train or 30_000, len(faces))
    return torch.stack([faces[i][0] for i in range(n)])


def main(argv: list[str] | None = None) -> dict[str, object]:
    """Train, print the time per step on rank 0, and return the measurements (on every rank)."""
    args = parse_args(argv)
    distributed = "WORLD_SIZE" in os.environ
    ranks = init_distributed() if distributed else None
    device = ranks.device if ranks else torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        if ranks and args.data == "celeba" and not ranks.is_main:
            ranks.barrier()  # rank 0 downloads first
        images = load_images(args)
        if ranks and args.data == "celeba" and ranks.is_main:
            ranks.barrier()
        size, channels = images.shape[-1], images.shape[1]
        width = args.width or (64 if args.data == "celeba" else 32)
        wgan = args.model == "wgan-gp"
        norm = "layer" if wgan else ("batch" if device.type == "cuda" else None)
        torch.manual_seed(args.seed)
        G = DCGANGenerator(z_dim=64, image_size=size, channels=channels, width=width).to(device)
        D = DCGANDiscriminator(image_size=size, channels=channels, width=width, norm=norm).to(device)
        if ranks:
            G, D = wrap_gan(G, D, ranks, penalty=wgan)
        config = TrainConfig(steps=args.steps, batch_size=args.batch_size, seed=args.seed,
                             **(dict(loss="wasserstein", gp_weight=10.0, n_critic=2, lr_d=1e-4, lr_g=1e-4,
                                     betas=(0.0, 0.9)) if wgan else dict(lr_d=2e-4, lr_g=2e-4)))
        clock: dict[int, float] = {}

        def tick(step: int, g: torch.nn.Module, d: torch.nn.Module) -> None:
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            clock[step] = time.perf_counter()

        # The callback runs at step 0, every `every` steps and at the last: time from --warmup to the end.
        every = args.warmup or args.steps
        history = train_gan(G, D, images, config, ranks=ranks, progress=False, every=every, callback=tick)
        world = ranks.world_size if ranks else 1
        difference = check_consistency(ranks, G, D) if ranks else 0.0
        result: dict[str, object] = {"world_size": world, "device": str(device), "model": args.model,
                                     "data": args.data, "steps": args.steps, "batch_per_rank": args.batch_size,
                                     "global_batch": world * args.batch_size,
                                     "d_loss_last": float(history.d_loss[-1]), "largest_difference": difference}
        if not ranks or ranks.is_main:
            timed = args.steps - args.warmup
            per_step = (clock[args.steps] - clock[args.warmup]) / timed
            result.update(seconds_per_step=per_step, samples_per_s=world * args.batch_size / per_step,
                          timed_steps=timed)
            print(f"{world} rank(s) on {device}: {per_step * 1e3:.1f} ms per step, "
                  f"{result['samples_per_s']:.0f} samples/s (global batch {world * args.batch_size}, "
                  f"{timed} steps timed); ranks' largest difference {difference:.3g}")
            print(json.dumps(result), flush=True)
        return result
    finally:
        if ranks:
            teardown()


if __name__ == "__main__":
    main()
