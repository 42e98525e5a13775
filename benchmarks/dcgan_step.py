"""Steps per second of ``train_gan`` on a DCGAN against a plain loop written like PyTorch's DCGAN example.

The plain loop is ``examples/dcgan/main.py``'s inner loop: a sigmoid at D's output and ``nn.BCELoss``,
``optimizerD``/``optimizerG``, a label tensor refilled with ``fill_``, a backward pass for the real
and another for the fake batch, and the five numbers the example prints (``errD.item()``, ``D_x``,
``D_G_z1``, ``D_G_z2``, ``errG.item()``) read every step. Both loops train the same architecture
(``gancourse.models.dcgan``) from the same initial weights on the same batches: each round starts
both from fresh copies, and the rounds alternate which one goes first, so a shared machine's
slow spells hit both alike. The ratio is trainer / plain steps per second (>= 1.0 is the goal on the
CPU; with CUDA, ``--amp --channels-last`` aims at >= 2).

Run: ``python benchmarks/dcgan_step.py`` (1 x 28 x 28 glyphs, batch 64), or e.g.
``python benchmarks/dcgan_step.py --image-size 64 --channels 3 --batch 128 --device cuda``.
The trainer runs as it is and with ``--channels-last`` (NHWC, which oneDNN's CPU kernels for
transposed convolutions also run faster); on CUDA also with ``--amp`` and with both.
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time
from collections.abc import Callable, Iterator

import torch
from torch import nn

from gancourse.models.dcgan import DCGANDiscriminator, DCGANGenerator
from gancourse.training import TrainConfig, batches, train_gan

LR, BETAS = 2e-4, (0.5, 0.999)  # the example's Adam settings


def plain_dcgan_steps(netG: nn.Module, netD: nn.Module, data: Iterator[torch.Tensor], steps: int,
                      device: torch.device, nz: int) -> list[tuple[float, ...]]:
    """Train for ``steps`` iterations as examples/dcgan/main.py does; return the numbers it prints."""
    criterion = nn.BCELoss()
    optimizerD = torch.optim.Adam(netD.parameters(), lr=LR, betas=BETAS)
    optimizerG = torch.optim.Adam(netG.parameters(), lr=LR, betas=BETAS)
    real_label, fake_label = 1.0, 0.0
    printed = []
    for _ in range(steps):
        # (1) Update D network: maximize log(D(x)) + log(1 - D(G(z)))
        netD.zero_grad()
        real_cpu = next(data).to(device)
        batch_size = real_cpu.size(0)
        label = torch.full((batch_size,), real_label, dtype=real_cpu.dtype, device=device)
        output = netD(real_cpu)
        errD_real = criterion(output, label)
        errD_real.backward()
        D_x = output.mean().item()

        noise = torch.randn(batch_size, nz, 1, 1, device=device)
        fake = netG(noise)
        label.fill_(fake_label)
        output = netD(fake.detach())
        errD_fake = criterion(output, label)
        errD_fake.backward()
        D_G_z1 = output.mean().item()
        errD = errD_real + errD_fake
        optimizerD.step()

        # (2) Update G network: maximize log(D(G(z)))
        netG.zero_grad()
        label.fill_(real_label)  # fake labels are real for generator cost
        output = netD(fake)
        errG = criterion(output, label)
        errG.backward()
        D_G_z2 = output.mean().item()
        optimizerG.step()
        printed.append((errD.item(), errG.item(), D_x, D_G_z1, D_G_z2))  # the example prints these
    return printed


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(run: Callable[[], object], device: torch.device) -> float:
    """Return the seconds ``run()`` takes, the device's queued work included."""
    _sync(device)
    start = time.perf_counter()
    run()
    _sync(device)
    return time.perf_counter() - start


def make_data(args: argparse.Namespace) -> torch.Tensor:
    """Return the training images: glyph digits for 1 x 28 x 28, else uniform noise in [-1, 1]."""
    n = max(1024, 4 * args.batch)
    if (args.channels, args.image_size) == (1, 28):
        from gancourse.data.glyphs import GlyphDataset

        return GlyphDataset(n, seed=0).images
    return torch.rand(n, args.channels, args.image_size, args.image_size, generator=torch.Generator().manual_seed(0)) * 2 - 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--image-size", type=int, default=28, choices=(28, 32, 64))
    parser.add_argument("--channels", type=int, default=1)
    parser.add_argument("--width", type=int, default=64, help="ngf = ndf, as in the example")
    parser.add_argument("--nz", type=int, default=100)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--steps", type=int, default=20, help="timed steps per measurement")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--threads", type=int, default=1, help="CPU threads (torch.set_num_threads)")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    torch.backends.cudnn.benchmark = True  # as the example does
    print(f"device {device}{' (' + torch.cuda.get_device_name(device) + ')' if device.type == 'cuda' else ''}, "
          f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    print(f"DCGAN {args.channels}x{args.image_size}x{args.image_size}, width {args.width}, nz {args.nz}, "
          f"batch {args.batch}; {args.rounds} rounds of {args.steps} steps after {args.warmup} warm-up steps")

    torch.manual_seed(0)
    G0 = DCGANGenerator(args.nz, args.image_size, args.channels, args.width).to(device)
    D0 = DCGANDiscriminator(args.image_size, args.channels, args.width).to(device)
    # On a GPU the images live there too, so neither loop times a host-to-device copy per step.
    images = make_data(args).to(device)

    def plain(steps: int, seed: int = 0) -> list[tuple[float, ...]]:
        G, D = copy.deepcopy(G0), nn.Sequential(copy.deepcopy(D0), nn.Sigmoid())  # the example's D ends in a sigmoid
        torch.manual_seed(seed)
        return plain_dcgan_steps(G, D, batches(images, args.batch), steps, device, args.nz)

    def trainer(steps: int, seed: int = 0, **flags: bool):
        G, D = copy.deepcopy(G0), copy.deepcopy(D0)
        cfg = TrainConfig(steps=steps, batch_size=args.batch, lr_d=LR, lr_g=LR, betas=BETAS, seed=seed, **flags)
        return train_gan(G, D, images, cfg, progress=False)

    # The same computation: with the same seed both draw the same batches and noise, so the losses agree
    # (at step 1 to rounding; later, Adam's normalised steps amplify rounding differences a little).
    p, h = plain(3), trainer(3)
    gaps = [max(abs(a[0] - d), abs(a[1] - g)) for a, d, g in zip(p, h.d_loss, h.g_loss)]
    print(f"same losses: |plain - trainer| = {gaps[0]:.1e} at step 1, at most {max(gaps):.1e} over 3 steps")

    variants: dict[str, dict[str, bool]] = {"trainer": {}, "trainer --channels-last": {"channels_last": True}}
    if device.type == "cuda":
        variants.update({"trainer --amp": {"amp": True}, "trainer --amp --channels-last": {"amp": True, "channels_last": True}})
    runners: dict[str, Callable[[int], object]] = {"plain": plain}
    runners.update({name: (lambda steps, f=flags: trainer(steps, **f)) for name, flags in variants.items()})
    for run in runners.values():
        timed(lambda run=run: run(args.warmup), device)

    rates: dict[str, list[float]] = {name: [] for name in runners}
    for r in range(args.rounds):
        order = list(runners) if r % 2 == 0 else list(reversed(runners))  # alternate who goes first
        for name in order:
            rates[name].append(args.steps / timed(lambda name=name: runners[name](args.steps), device))

    plain_rates = rates["plain"]
    print(f"{'loop':32s} {'steps/s (median)':>17s} {'min':>8s} {'max':>8s} {'ratio vs plain (median of rounds)':>36s}")
    for name, values in rates.items():
        ratios = [v / p for v, p in zip(values, plain_rates)]
        ratio = "" if name == "plain" else f"{statistics.median(ratios):.3f}  (rounds: {min(ratios):.2f}-{max(ratios):.2f})"
        print(f"{name:32s} {statistics.median(values):17.2f} {min(values):8.2f} {max(values):8.2f} {ratio:>36s}")
    goal = 1.0 if device.type == "cpu" else 2.0
    best = max((statistics.median([v / p for v, p in zip(values, plain_rates)]), name)
               for name, values in rates.items() if name != "plain")
    print(f"RATIO (trainer / plain) = {statistics.median([v / p for v, p in zip(rates['trainer'], plain_rates)]):.3f}; "
          f"best: {best[1]} at {best[0]:.3f}; goal on {device.type}: >= {goal}: "
          f"{'met' if best[0] >= goal else 'MISSED'}")


if __name__ == "__main__":
    main()
