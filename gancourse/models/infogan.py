"""InfoGAN (Chen et al., 2016): latent codes c that G must keep recoverable from its images.

G reads z = [noise, one_hot(c_cat), c_cont]: a categorical code c_cat ~ Cat(K) (uniform) and
continuous codes c_cont ~ U(-1, 1). Nothing in the GAN game asks G to use c, so InfoGAN adds a
network Q(c | x) that guesses the codes back from G(z) and rewards G when the guess is good. The
reward is a variational lower bound on the mutual information I(c; G(z, c)):

    I(c; G(z, c)) >= H(c) + E[log Q(c | G(z, c))] =: L_I,

so maximising E[log Q(c | x)] over G and Q raises a lower bound on I. For the categorical code
-E[log Q] is the cross-entropy of Q's logits with c_cat; for a continuous code, Q predicts a
Gaussian with mean mu and log standard deviation log_std (learned, one per code and sample), and
-E[log Q] is that Gaussian's negative log-likelihood at c_cont. ``mutual_information_loss``
returns lambda_cat * CE + lambda_cont * NLL, i.e. -L_I up to the constant H(c); the paper uses
lambda = 1 for a categorical code and a smaller weight for continuous ones (here 0.1).

Q shares D's convolutional body (``InfoGANDiscriminator``): D and Q are one module with two
heads, so Q costs one extra small layer. Training (``train_infogan``) is the GAN loop with the MI
term added to both losses, as in the authors' code: the D step minimises D's loss + the MI loss
(which trains Q's head and the shared body), the G step minimises G's loss + the MI loss (which
trains G): min over G and Q, max over D, of V(D, G) - lambda L_I(G, Q).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from gancourse.losses import discriminator_loss, nonsaturating_generator_loss
from gancourse.models.conditional import one_hot
from gancourse.models.dcgan import DCGANDiscriminator, Norm, _norm_layer
from gancourse.training_utils import RealBatches, frozen

__all__ = [
    "sample_latent",
    "latent_input",
    "InfoGANOutput",
    "InfoGANDiscriminator",
    "categorical_code_loss",
    "continuous_code_nll",
    "mutual_information_loss",
    "categorical_mi_lower_bound",
    "continuous_mi_lower_bound",
    "InfoGANConfig",
    "InfoGANHistory",
    "infogan_step",
    "train_infogan",
]


def _check_int(name: str, value: object, low: int, hint: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValueError(f"{name} must be an int >= {low} ({hint}), got {value!r}")
    return value


# ---------------------------------------------------------------------------------------------
# The codes.

def latent_input(noise: torch.Tensor, c_cat: torch.Tensor, c_cont: torch.Tensor, n_categories: int) -> torch.Tensor:
    """Return G's input [noise, one_hot(c_cat), c_cont], shape (N, noise_dim + n_categories + n_continuous).

    Use it to choose the codes yourself, e.g. one category per row and a continuous code swept from
    -1 to 1 (a latent traversal grid).
    """
    if noise.ndim != 2 or c_cont.ndim != 2 or not noise.shape[0] == c_cat.shape[0] == c_cont.shape[0]:
        raise ValueError(f"noise (N, noise_dim), c_cat (N,) and c_cont (N, n_continuous) must have one row per "
                         f"sample; got {tuple(noise.shape)}, {tuple(c_cat.shape)} and {tuple(c_cont.shape)}")
    return torch.cat([noise, one_hot(c_cat, n_categories).to(noise), c_cont.to(noise)], dim=1)


def sample_latent(
    n: int,
    noise_dim: int,
    n_categories: int = 10,
    n_continuous: int = 2,
    *,
    generator: torch.Generator | None = None,
    device: torch.device | str | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Return (z, c_cat, c_cont): G's input (N, noise_dim + n_categories + n_continuous), the category
    indices (N,) int64 and the continuous codes (N, n_continuous).

    noise ~ N(0, I), c_cat uniform on {0, ..., n_categories - 1}, c_cont ~ U(-1, 1) per code; z is
    ``latent_input(noise, c_cat, c_cont, n_categories)``.
    """
    _check_int("n", n, 1, "how many samples")
    _check_int("noise_dim", noise_dim, 1, "the size of the incompressible noise")
    _check_int("n_categories", n_categories, 2, "the categorical code's number of values")
    _check_int("n_continuous", n_continuous, 0, "how many continuous codes")
    if device is None and generator is not None:
        device = generator.device
    noise = torch.randn(n, noise_dim, generator=generator, device=device)
    c_cat = torch.randint(n_categories, (n,), generator=generator, device=device)
    c_cont = torch.rand(n, n_continuous, generator=generator, device=device) * 2 - 1  # U(0, 1) -> U(-1, 1)
    return latent_input(noise, c_cat, c_cont, n_categories), c_cat, c_cont


# ---------------------------------------------------------------------------------------------
# D and Q: one body, two heads.

class InfoGANOutput(NamedTuple):
    """What ``InfoGANDiscriminator`` returns: D's logits (N,), and Q's guesses of the codes."""

    logits: torch.Tensor      # (N,) D's raw score: real or fake
    cat_logits: torch.Tensor  # (N, n_categories) Q's logits for the categorical code
    mu: torch.Tensor          # (N, n_continuous) mean of Q's Gaussian for each continuous code
    log_std: torch.Tensor     # (N, n_continuous) log standard deviation of that Gaussian (not log-variance)


class InfoGANDiscriminator(nn.Module):
    """D and Q sharing the DCGAN discriminator's body: images (N, C, S, S) -> ``InfoGANOutput``.

    The body is every layer of ``DCGANDiscriminator`` but the last; D's head is that last
    convolution (one logit), Q's head is a convolution over the whole final map to ``q_hidden``
    units, normalisation, LeakyReLU(0.2) and a Linear layer to the code parameters (the paper's
    FC-BN-LReLU-FC). ``score(x)`` returns D's logits alone.
    """

    def __init__(self, n_categories: int = 10, n_continuous: int = 2, image_size: int = 28, channels: int = 1,
                 width: int = 64, *, norm: Norm = "batch", q_hidden: int = 128) -> None:
        super().__init__()
        self.n_categories = _check_int("n_categories", n_categories, 2, "the categorical code's number of values")
        self.n_continuous = _check_int("n_continuous", n_continuous, 0, "how many continuous codes")
        _check_int("q_hidden", q_hidden, 1, "width of Q's hidden layer")
        d = DCGANDiscriminator(image_size, channels, width, norm=norm)
        self.image_size, self.channels = image_size, channels
        self.body = d.net[:-1]
        self.d_head = d.net[-1]  # Conv2d(features, 1, end): one logit per image
        features, end = self.d_head.in_channels, self.d_head.kernel_size
        q_layers: list[nn.Module] = [nn.Conv2d(features, q_hidden, end, bias=norm is None)]
        if norm is not None:
            q_layers.append(_norm_layer(norm, q_hidden))
        q_layers += [nn.LeakyReLU(0.2), nn.Flatten(), nn.Linear(q_hidden, n_categories + 2 * n_continuous)]
        self.q_head = nn.Sequential(*q_layers)

    def forward(self, x: torch.Tensor) -> InfoGANOutput:
        """Return D's logits and Q's code parameters from ONE pass through the shared body."""
        want = (self.channels, self.image_size, self.image_size)
        if not isinstance(x, torch.Tensor) or x.ndim != 4 or tuple(x.shape[1:]) != want:
            raise ValueError(f"InfoGANDiscriminator expects images of shape (N, {', '.join(map(str, want))}), "
                             f"got {tuple(getattr(x, 'shape', ()))}")
        h = self.body(x)
        q = self.q_head(h)
        k, m = self.n_categories, self.n_continuous
        return InfoGANOutput(self.d_head(h).flatten(), q[:, :k], q[:, k:k + m], q[:, k + m:])

    def score(self, x: torch.Tensor) -> torch.Tensor:
        """Return D's logits alone, shape (N,) (for code that expects a plain discriminator)."""
        return self(x).logits


# ---------------------------------------------------------------------------------------------
# The mutual-information loss and its lower bound.

def categorical_code_loss(cat_logits: torch.Tensor, c_cat: torch.Tensor) -> torch.Tensor:
    """Return the cross-entropy -E[log Q(c_cat | x)] in nats (mean over the batch)."""
    if cat_logits.ndim != 2 or c_cat.shape != cat_logits.shape[:1]:
        raise ValueError(f"cat_logits must be (N, n_categories) and c_cat (N,) category indices, got "
                         f"{tuple(cat_logits.shape)} and {tuple(c_cat.shape)}")
    return F.cross_entropy(cat_logits, c_cat)


def continuous_code_nll(mu: torch.Tensor, log_std: torch.Tensor, c_cont: torch.Tensor) -> torch.Tensor:
    """Return -E[log N(c_cont; mu, exp(log_std)^2)] in nats: summed over the codes, mean over the batch.

    Per code: log_std + (c - mu)^2 / (2 exp(2 log_std)) + log(2 pi) / 2, the full negative
    log-density (its constant included, so that log 2 - NLL bounds each code's information).
    """
    if not mu.shape == log_std.shape == c_cont.shape or mu.ndim != 2:
        raise ValueError(f"mu, log_std and c_cont must all be (N, n_continuous), got {tuple(mu.shape)}, "
                         f"{tuple(log_std.shape)} and {tuple(c_cont.shape)}")
    nll = log_std + 0.5 * ((c_cont - mu) * torch.exp(-log_std)) ** 2 + 0.5 * math.log(2 * math.pi)
    return nll.sum(dim=1).mean()


def mutual_information_loss(cat_logits: torch.Tensor, c_cat: torch.Tensor, mu: torch.Tensor, log_std: torch.Tensor,
                            c_cont: torch.Tensor, lambda_cat: float = 1.0, lambda_cont: float = 0.1) -> torch.Tensor:
    """Return lambda_cat * cross-entropy(c_cat) + lambda_cont * Gaussian NLL(c_cont), the term G and Q minimise."""
    for name, value in (("lambda_cat", lambda_cat), ("lambda_cont", lambda_cont)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < math.inf:
            raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return lambda_cat * categorical_code_loss(cat_logits, c_cat) + lambda_cont * continuous_code_nll(mu, log_std, c_cont)


@torch.no_grad()
def categorical_mi_lower_bound(cat_logits: torch.Tensor, c_cat: torch.Tensor) -> float:
    """Return H(c) - CE = log(n_categories) - cross-entropy, in nats: a lower bound on I(c_cat; G(z, c)).

    H(c) = log K for the uniform categorical code; the bound reaches log K (2.303 nats for K = 10)
    when Q recovers every code with certainty, and 0 (or below) when Q guesses no better than chance.
    """
    return math.log(cat_logits.shape[1]) - float(categorical_code_loss(cat_logits, c_cat))


@torch.no_grad()
def continuous_mi_lower_bound(mu: torch.Tensor, log_std: torch.Tensor, c_cont: torch.Tensor) -> float:
    """Return H(c_cont) - NLL = n_continuous * log 2 - Gaussian NLL, in nats (U(-1, 1) has entropy log 2)."""
    return mu.shape[1] * math.log(2.0) - float(continuous_code_nll(mu, log_std, c_cont))


# ---------------------------------------------------------------------------------------------
# Training.

@dataclass
class InfoGANConfig:
    """The hyper-parameters of an InfoGAN run (learning rates as in Chen et al., 2016: D 2e-4, G 1e-3)."""

    steps: int = 2_000
    batch_size: int = 64
    lr_d: float = 2e-4          # D, Q's head and the shared body
    lr_g: float = 1e-3
    betas: tuple[float, float] = (0.5, 0.999)
    lambda_cat: float = 1.0     # weight of the categorical code's cross-entropy
    lambda_cont: float = 0.1    # weight of the continuous codes' Gaussian NLL
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("steps", "batch_size"):
            _check_int(name, getattr(self, name), 1, "a count")
        for name in ("lr_d", "lr_g", "lambda_cat", "lambda_cont"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < math.inf:
                raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
        if len(self.betas) != 2 or not all(0 <= b < 1 for b in self.betas):
            raise ValueError(f"betas must be two numbers in [0, 1), got {self.betas!r}")
        _check_int("seed", self.seed, 0, "the random seed")


@dataclass
class InfoGANHistory:
    """One entry per step: the losses, D's mean probabilities and the MI lower bounds (nats) on that step's fakes."""

    step: list[int] = field(default_factory=list)
    d_loss: list[float] = field(default_factory=list)
    g_loss: list[float] = field(default_factory=list)
    mi_loss: list[float] = field(default_factory=list)
    mi_cat: list[float] = field(default_factory=list)   # log K - CE: categorical_mi_lower_bound
    mi_cont: list[float] = field(default_factory=list)  # n_continuous log 2 - NLL: continuous_mi_lower_bound
    d_real: list[float] = field(default_factory=list)
    d_fake: list[float] = field(default_factory=list)

    COLUMNS = ("d_loss", "g_loss", "mi_loss", "mi_cat", "mi_cont", "d_real", "d_fake")

    def __len__(self) -> int:
        return len(self.step)

    def to_frame(self) -> pd.DataFrame:
        """Return the history as a DataFrame indexed by step, one column per measurement."""
        return pd.DataFrame({c: getattr(self, c) for c in self.COLUMNS}, index=pd.Index(self.step, name="step"))


def _noise_dim(G: nn.Module, DQ: InfoGANDiscriminator) -> int:
    """Return the size of G's incompressible noise: its z_dim less the codes' size, or raise."""
    z_dim = getattr(G, "z_dim", None)
    codes = DQ.n_categories + DQ.n_continuous
    if not isinstance(z_dim, int) or z_dim <= codes:
        raise ValueError(f"G.z_dim must be noise_dim + n_categories + n_continuous = noise_dim + {codes} with "
                         f"noise_dim >= 1, got G.z_dim={z_dim!r}; build G with z_dim=noise_dim + {codes}")
    return z_dim - codes


def infogan_step(G: nn.Module, DQ: InfoGANDiscriminator, real: torch.Tensor, opt_d: torch.optim.Optimizer,
                 opt_g: torch.optim.Optimizer, lambda_cat: float = 1.0, lambda_cont: float = 0.1) -> dict[str, torch.Tensor]:
    """Do one D-and-Q update and one G update on the real batch ``real``; return the step's numbers (0-d tensors).

    ``opt_d`` holds all of DQ's parameters (body, D head, Q head), ``opt_g`` G's.
    """
    n = real.shape[0]
    z, c_cat, c_cont = sample_latent(n, _noise_dim(G, DQ), DQ.n_categories, DQ.n_continuous, device=real.device)
    fake = G(z)

    # (1) D and Q: tell real from fake, and read the codes back from the fakes. detach(): G stays out.
    out_real, out_fake = DQ(real), DQ(fake.detach())
    loss_d = discriminator_loss(out_real.logits, out_fake.logits)
    loss_q = mutual_information_loss(out_fake.cat_logits, c_cat, out_fake.mu, out_fake.log_std, c_cont,
                                     lambda_cat, lambda_cont)
    opt_d.zero_grad(set_to_none=True)
    (loss_d + loss_q).backward()
    opt_d.step()

    # (2) G: fool the updated D AND make the codes easy for Q to read. frozen(DQ): gradients flow through
    # D and Q to G, but this step updates G only.
    with frozen(DQ):
        out = DQ(fake)
    loss_g = nonsaturating_generator_loss(out.logits)
    loss_mi = mutual_information_loss(out.cat_logits, c_cat, out.mu, out.log_std, c_cont, lambda_cat, lambda_cont)
    opt_g.zero_grad(set_to_none=True)
    (loss_g + loss_mi).backward()
    opt_g.step()

    with torch.no_grad():
        return {
            "d_loss": loss_d.detach(), "g_loss": loss_g.detach(), "mi_loss": loss_mi.detach(),
            "mi_cat": math.log(DQ.n_categories) - F.cross_entropy(out.cat_logits, c_cat),
            "mi_cont": DQ.n_continuous * math.log(2.0) - continuous_code_nll(out.mu, out.log_std, c_cont),
            "d_real": torch.sigmoid(out_real.logits).mean(), "d_fake": torch.sigmoid(out_fake.logits).mean(),
        }


def train_infogan(G: nn.Module, DQ: InfoGANDiscriminator, data: torch.Tensor | torch.utils.data.Dataset,
                  config: InfoGANConfig | None = None, *,
                  callback: Callable[[int, nn.Module, nn.Module], None] | None = None, every: int = 100,
                  progress: bool = True) -> InfoGANHistory:
    """Train G and DQ in place for ``config.steps`` steps of ``infogan_step``; return the InfoGANHistory.

    ``data``: a tensor of images or a Dataset (labels, if any, are ignored: InfoGAN is unsupervised).
    ``callback(step, G, DQ)`` runs at step 0, every ``every`` steps and after the last; its random
    draws stay out of the run. Random draws come from torch's global RNG seeded with
    ``config.seed`` inside a forked RNG state, so the caller's random state is left alone.
    """
    config = config or InfoGANConfig()
    if not isinstance(config, InfoGANConfig):
        raise TypeError(f"config must be an InfoGANConfig, got {type(config).__name__}")
    if not isinstance(DQ, InfoGANDiscriminator):
        raise TypeError(f"DQ must be an InfoGANDiscriminator (D and Q sharing a body), got {type(DQ).__name__}")
    _check_int("every", every, 1, "steps between callbacks")
    _noise_dim(G, DQ)
    device = next(G.parameters()).device
    cuda = [device.index or 0] if device.type == "cuda" else []
    opt_d = torch.optim.Adam(DQ.parameters(), lr=config.lr_d, betas=config.betas)
    opt_g = torch.optim.Adam(G.parameters(), lr=config.lr_g, betas=config.betas)
    history = InfoGANHistory()
    pending: list[tuple[int, dict[str, torch.Tensor]]] = []

    def flush() -> None:  # one transfer for many steps: no device sync per step
        if pending:
            rows = torch.stack([torch.stack([d[c].float() for c in history.COLUMNS]) for _, d in pending]).tolist()
            for (step, _), row in zip(pending, rows):
                history.step.append(step)
                for c, v in zip(history.COLUMNS, row):
                    getattr(history, c).append(v)
            pending.clear()

    def snapshot(step: int) -> None:
        if callback is not None:
            with torch.random.fork_rng(devices=cuda):
                callback(step, G, DQ)

    G.train()
    DQ.train()
    with torch.random.fork_rng(devices=cuda):
        torch.manual_seed(config.seed)
        real_batches = RealBatches(data, config.batch_size)
        snapshot(0)
        for step in tqdm(range(1, config.steps + 1), desc="InfoGAN", disable=not progress):
            real = next(real_batches).to(device)
            pending.append((step, infogan_step(G, DQ, real, opt_d, opt_g, config.lambda_cat, config.lambda_cont)))
            if step % every == 0 or step == config.steps:
                flush()
                snapshot(step)
    return history
