"""InfoGAN's steps (Chen et al., 2016): the GAN loop with the mutual-information term in both steps.

G reads z = [noise, one_hot(c_cat), c_cont] (``gancourse.models.noise.sample_latent``), D and Q
share one body (``gancourse.models.InfoGANDiscriminator``). As in the authors' code, the D step
minimises D's loss + the MI loss (which trains Q's head and the shared body) and the G step
minimises G's loss + the MI loss (which trains G): min over G and Q, max over D, of
V(D, G) - lambda L_I(G, Q). So InfoGAN is ``train_gan(G, DQ, data, config,
variant=InfoGANSteps())``: the same loop, two extra loss terms; the History gains ``mi_loss`` and
the lower bounds ``mi_cat`` and ``mi_cont`` (nats, on the G step's fakes).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from gancourse import checks
from gancourse.losses import continuous_code_nll, gradient_penalty, mutual_information_loss
from gancourse.models.infogan import InfoGANDiscriminator, InfoGANOutput
from gancourse.models.noise import sample_latent
from gancourse.training.config import TrainConfig
from gancourse.training.history import History
from gancourse.training.loop import train_gan
from gancourse.training.parts import Callback
from gancourse.training.steps import DLoss, DStep, GANSteps, GLoss, GStep

__all__ = ["InfoGANSteps", "InfoGANConfig", "train_infogan"]


class InfoGANSteps(GANSteps):
    """The GAN's steps plus lambda_cat * CE(c_cat) + lambda_cont * NLL(c_cont) in both of them."""

    def __init__(self, lambda_cat: float = 1.0, lambda_cont: float = 0.1) -> None:
        self.lambda_cat = checks.number("lambda_cat", lambda_cat, "the categorical code's weight, e.g. 1",
                                        at_least=0)
        self.lambda_cont = checks.number("lambda_cont", lambda_cont, "the continuous codes' weight, e.g. 0.1",
                                         at_least=0)

    def __repr__(self) -> str:
        return f"InfoGANSteps(lambda_cat={self.lambda_cat}, lambda_cont={self.lambda_cont})"

    def check(self, G: nn.Module, D: nn.Module) -> None:
        """Raise unless D is an InfoGANDiscriminator and G's input has room for noise and the codes."""
        if not isinstance(D, InfoGANDiscriminator):
            raise TypeError(f"D must be an InfoGANDiscriminator (D and Q sharing a body), got {type(D).__name__}")
        noise_dim(G, D)

    def _mi_loss(self, out: InfoGANOutput, codes: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        return mutual_information_loss(out.cat_logits, codes[0], out.mu, out.log_std, codes[1], self.lambda_cat,
                                       self.lambda_cont)

    def d_step(self, G: nn.Module, DQ: nn.Module, real: torch.Tensor, cond: tuple[torch.Tensor, ...],
               d_loss: DLoss) -> DStep:
        """D tells real from fake; Q reads the codes back from the fakes. detach(): G stays out."""
        z, c_cat, c_cont = sample_latent(real.shape[0], noise_dim(G, DQ), DQ.n_categories, DQ.n_continuous,
                                         device=real.device)
        fake = G(z)
        out_real, out_fake = DQ(real), DQ(fake.detach())
        q_loss = self._mi_loss(out_fake, (c_cat, c_cont))
        return DStep(d_loss(out_real.logits, out_fake.logits), out_real.logits, out_fake.logits, real, fake,
                     cond=(c_cat, c_cont), aux_loss=q_loss)

    def g_step(self, G: nn.Module, DQ: nn.Module, d: DStep, g_loss: GLoss) -> GStep:
        """G fools the updated D AND makes its codes easy for Q to read."""
        out = DQ(d.fake)
        c_cat, c_cont = d.cond
        mi_loss = self._mi_loss(out, d.cond)
        with torch.no_grad():
            stats = {"mi_loss": mi_loss.detach(),
                     "mi_cat": math.log(DQ.n_categories) - nn.functional.cross_entropy(out.cat_logits, c_cat),
                     "mi_cont": DQ.n_continuous * math.log(2.0) - continuous_code_nll(out.mu, out.log_std, c_cont)}
        return GStep(g_loss(out.logits), aux_loss=mi_loss, stats=stats)

    def penalty(self, DQ: nn.Module, d: DStep) -> torch.Tensor:
        """Return the gradient penalty of D's head (Q's does not enter it)."""
        return gradient_penalty(lambda x: DQ(x).logits, d.real.float(), d.fake.detach().float())


def noise_dim(G: nn.Module, DQ: InfoGANDiscriminator) -> int:
    """Return the size of G's incompressible noise: its z_dim less the codes' size, or raise."""
    z_dim = getattr(G, "z_dim", None)
    codes = DQ.n_categories + DQ.n_continuous
    if not isinstance(z_dim, int) or z_dim <= codes:
        raise ValueError(f"G.z_dim must be noise_dim + n_categories + n_continuous = noise_dim + {codes} with "
                         f"noise_dim >= 1, got G.z_dim={z_dim!r}; build G with z_dim=noise_dim + {codes}")
    return z_dim - codes


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
        self.train_config()  # checks the shared fields
        InfoGANSteps(self.lambda_cat, self.lambda_cont)

    def train_config(self) -> TrainConfig:
        """Return the TrainConfig of this run (the non-saturating GAN loss, Adam)."""
        return TrainConfig(steps=self.steps, batch_size=self.batch_size, lr_d=self.lr_d, lr_g=self.lr_g,
                           betas=self.betas, seed=self.seed)


def train_infogan(G: nn.Module, DQ: InfoGANDiscriminator, data: torch.Tensor | torch.utils.data.Dataset,
                  config: InfoGANConfig | None = None, *, callback: Callback | None = None, every: int = 100,
                  progress: bool = True) -> History:
    """Train G and DQ with ``train_gan`` and ``InfoGANSteps``; return the History (with mi_* columns).

    A shorthand that keeps InfoGAN's hyper-parameters in one dataclass: the same as
    ``train_gan(G, DQ, data, config.train_config(), variant=InfoGANSteps(config.lambda_cat,
    config.lambda_cont), ...)``. Labels in ``data``, if any, are ignored: InfoGAN is unsupervised.
    """
    config = config or InfoGANConfig()
    if not isinstance(config, InfoGANConfig):
        raise TypeError(f"config must be an InfoGANConfig, got {type(config).__name__}")
    return train_gan(G, DQ, data, config.train_config(), variant=InfoGANSteps(config.lambda_cat, config.lambda_cont),
                     callback=callback, every=every, progress=progress)
