"""The GAN training loop: alternate one discriminator step and one generator step (Goodfellow et al., 2014).

Read ``train_gan`` top to bottom: each step draws a real batch and a fake batch, updates D on
the binary cross-entropy, then updates G so that D calls its samples real. Everything the loop
can be asked to do lives in ``TrainConfig``; what it measured comes back as a ``History``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset
from tqdm.auto import tqdm

from gancourse.losses import discriminator_loss, generator_loss
from gancourse.models import sample_noise

__all__ = ["TrainConfig", "History", "train_gan", "batches"]

Sampler = Callable[[int], torch.Tensor]
Data = Sampler | torch.Tensor | Dataset
Callback = Callable[[int, nn.Module, nn.Module], None]


@dataclass
class TrainConfig:
    """The hyper-parameters of a GAN run (Adam settings from DCGAN, Radford et al., 2016)."""

    steps: int = 2_000          # one step = one D update + one G update
    batch_size: int = 64
    lr_d: float = 2e-4
    lr_g: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)  # beta1 = 0.5: less momentum, which GANs tolerate better
    g_loss: str = "nonsaturating"               # or "minimax", the saturating loss of the original game
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("steps", "batch_size"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        for name in ("lr_d", "lr_g"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"{name} must be >= 0 (0 freezes that network), got {getattr(self, name)!r}")
        if self.g_loss not in ("nonsaturating", "minimax"):
            raise ValueError(f"g_loss must be 'nonsaturating' or 'minimax', got {self.g_loss!r}")


@dataclass
class History:
    """What each step measured: the two losses and the mean of D on the real and on the fake batch."""

    step: list[int] = field(default_factory=list)
    d_loss: list[float] = field(default_factory=list)
    g_loss: list[float] = field(default_factory=list)
    d_real: list[float] = field(default_factory=list)  # mean D(x) over the real batch
    d_fake: list[float] = field(default_factory=list)  # mean D(G(z)) over the fake batch, at the D step

    def append(self, step: int, d_loss: float, g_loss: float, d_real: float, d_fake: float) -> None:
        """Record one step."""
        self.step.append(step)
        self.d_loss.append(d_loss)
        self.g_loss.append(g_loss)
        self.d_real.append(d_real)
        self.d_fake.append(d_fake)

    def __len__(self) -> int:
        return len(self.step)

    def to_frame(self) -> pd.DataFrame:
        """Return the history as a DataFrame indexed by step, one column per measurement."""
        return pd.DataFrame(asdict(self)).set_index("step")


def batches(data: Data, batch_size: int) -> Iterator[torch.Tensor]:
    """Yield batches of real samples forever from a sampler, a tensor or a Dataset."""
    if isinstance(data, torch.Tensor):
        if data.shape[0] < batch_size:
            raise ValueError(f"the data tensor holds {data.shape[0]} samples, fewer than batch_size={batch_size}")
        while True:  # one shuffled pass after another; the last incomplete batch of a pass is dropped
            order = torch.randperm(data.shape[0])
            for i in range(0, data.shape[0] - batch_size + 1, batch_size):
                yield data[order[i : i + batch_size]]
    elif isinstance(data, Dataset):
        loader = DataLoader(data, batch_size=batch_size, shuffle=True, drop_last=True)
        while True:
            for batch in loader:
                # Labelled datasets yield (images, labels): a GAN only needs the images.
                yield batch[0] if isinstance(batch, (tuple, list)) else batch
    elif callable(data):
        while True:
            batch = data(batch_size)
            if not isinstance(batch, torch.Tensor) or batch.shape[0] != batch_size:
                raise ValueError(
                    f"the sampler must return a tensor of {batch_size} samples when called with {batch_size}, "
                    f"got {type(batch).__name__} of shape {tuple(getattr(batch, 'shape', ()))}"
                )
            yield batch
    else:
        raise TypeError(
            "data must be a sampler (a function n -> tensor of n samples, e.g. `lambda n: ring.sample(n)`), "
            f"a tensor of samples or a torch Dataset; got {type(data).__name__}"
        )


def train_gan(
    G: nn.Module,
    D: nn.Module,
    data: Data,
    config: TrainConfig | None = None,
    *,
    callback: Callback | None = None,
    every: int = 100,
    log_dir: str | Path | None = None,
    progress: bool = True,
) -> History:
    """Train G and D in place for ``config.steps`` alternating steps; return the History of every step.

    ``G`` needs a ``z_dim`` attribute (the noise size); both networks are left in train mode.
    ``callback(step, G, D)`` runs before the first step (step 0), after every ``every`` steps and
    after the last one: use it for snapshots (it may switch G to eval mode, but must switch it back).
    With ``log_dir``, the four curves also go to TensorBoard (``tensorboard --logdir <log_dir>``).
    The run is reproducible: it seeds torch's RNG with ``config.seed`` inside a forked RNG state,
    so the caller's random state is left as it was, and a callback that draws random numbers does
    not change the run.
    """
    config = config or TrainConfig()
    if not isinstance(getattr(G, "z_dim", None), int):
        raise TypeError("G needs an int attribute `z_dim` (the size of its noise input), e.g. an MLPGenerator")
    if not isinstance(every, int) or every < 1:
        raise ValueError(f"every must be a positive int, got {every!r}")
    device = next(G.parameters()).device
    cuda = [device.index or 0] if device.type == "cuda" else []

    def snapshot(step: int) -> None:
        if callback is not None:
            with torch.random.fork_rng(devices=cuda):  # the callback's random draws stay out of the run
                callback(step, G, D)

    opt_d = torch.optim.Adam(D.parameters(), lr=config.lr_d, betas=config.betas)
    opt_g = torch.optim.Adam(G.parameters(), lr=config.lr_g, betas=config.betas)
    history = History()
    writer = None
    if log_dir is not None:
        from torch.utils.tensorboard import SummaryWriter  # imported here: TensorBoard is optional

        writer = SummaryWriter(log_dir=str(log_dir))
    G.train()
    D.train()
    try:
        with torch.random.fork_rng(devices=cuda):
            torch.manual_seed(config.seed)
            real_batches = batches(data, config.batch_size)
            snapshot(0)
            bar = tqdm(range(1, config.steps + 1), desc="GAN", disable=not progress)
            for step in bar:
                real = next(real_batches).to(device)
                fake = G(sample_noise(config.batch_size, G.z_dim, device=device))

                # (1) D step: minimise -log D(x) - log(1 - D(G(z))). detach(): this step must not update G.
                opt_d.zero_grad(set_to_none=True)
                real_logits = D(real)
                fake_logits = D(fake.detach())
                loss_d = discriminator_loss(real_logits, fake_logits)
                loss_d.backward()
                opt_d.step()

                # (2) G step: make the freshly updated D call the same fakes real.
                opt_g.zero_grad(set_to_none=True)
                loss_g = generator_loss(config.g_loss, D(fake))
                loss_g.backward()
                opt_g.step()

                history.append(
                    step,
                    loss_d.item(),
                    loss_g.item(),
                    torch.sigmoid(real_logits).mean().item(),
                    torch.sigmoid(fake_logits).mean().item(),
                )
                if step % 50 == 0:
                    bar.set_postfix(d_loss=f"{history.d_loss[-1]:.3f}", g_loss=f"{history.g_loss[-1]:.3f}",
                                    refresh=False)
                if writer is not None:
                    writer.add_scalar("loss/D", history.d_loss[-1], step)
                    writer.add_scalar("loss/G", history.g_loss[-1], step)
                    writer.add_scalar("D/real", history.d_real[-1], step)
                    writer.add_scalar("D/fake", history.d_fake[-1], step)
                if step % every == 0 or step == config.steps:
                    snapshot(step)
    finally:
        if writer is not None:
            writer.close()
    return history
