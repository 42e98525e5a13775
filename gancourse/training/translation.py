"""pix2pix's and CycleGAN's steps for THE loop, and CycleGAN's image pool (chapter 10).

Both read their real batches from one tensor of image pairs stacked on the channels
(``pair_domains(a, b)``: the first half of the channels is domain A, or pix2pix's input; the second
half domain B, or its target). For pix2pix, row i holds an input and ITS target; for CycleGAN the
two halves are drawn independently, so nothing pairs them (unpaired data).

- ``Pix2PixSteps`` (Isola et al., 2017): a conditional PatchGAN judges (input, output) stacked on
  the channels; G minimises the adversarial loss times ``adversarial_weight`` plus ``l1_weight``
  times the L1 distance to the target (``adversarial_weight=0``: L1 alone, D trained but ignored,
  for an equal budget; ``distance='l2'``: the squared error instead of L1).
- ``CycleGANSteps`` (Zhu et al., 2017): G = ``CycleGenerators`` (A -> B, B -> A), D =
  ``CycleDiscriminators`` (one per domain); both adversarial losses, lambda_cyc times both cycle
  losses, lambda_id * lambda_cyc times both identity losses; each D scores the fakes through an
  ``ImagePool``. The History gains ``cycle`` (the mean of the two cycle L1s) and ``identity``.
- ``ImagePool``: CycleGAN's history of generated images (Shrivastava et al., 2017). Until it is
  full it stores and returns every image; then each image is, with probability 1/2, returned as
  is, or swapped for a stored one picked at random, which it replaces. D then sees fakes from the
  last few hundred steps, not only from the current G. The pool's contents are not part of a
  checkpoint: a resumed run starts with an empty pool.
"""

from __future__ import annotations

import torch
from torch import nn

from gancourse import checks
from gancourse.losses import cycle_consistency_loss, identity_loss
from gancourse.models.translation import CycleDiscriminators, CycleGenerators
from gancourse.training.steps import DLoss, DStep, GANSteps, GLoss, GStep

__all__ = ["ImagePool", "Pix2PixSteps", "CycleGANSteps", "pair_domains", "split_domains"]


def pair_domains(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Return images ``a`` and ``b`` (N, C, H, W each) stacked on the channels: (N, 2C, H, W)."""
    checks.float_tensor("a", a, "images")
    checks.float_tensor("b", b, "images")
    if a.ndim != 4 or a.shape != b.shape:
        raise ValueError(f"a and b must be image batches of one shape (N, C, H, W), got {tuple(a.shape)} and "
                         f"{tuple(b.shape)}")
    return torch.cat([a, b], dim=1)


def split_domains(pairs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Return (domain A's images, domain B's images) of a batch made by ``pair_domains``."""
    if pairs.ndim != 4 or pairs.shape[1] % 2:
        raise ValueError(f"pairs must be (N, 2C, H, W) images from pair_domains(a, b), got {tuple(pairs.shape)}")
    c = pairs.shape[1] // 2
    return pairs[:, :c], pairs[:, c:]


class ImagePool:
    """CycleGAN's pool of ``size`` past fakes; ``query(images)`` returns what D should score.

    Random draws come from ``generator`` (a ``torch.Generator``; default: seeded with 0), one
    uniform number per image once the pool is full, and a slot index for each swap, so a run is
    reproducible. ``size=0`` turns the pool off (``query`` returns its input).
    """

    def __init__(self, size: int = 50, generator: torch.Generator | None = None) -> None:
        self.size = checks.integer("size", size, "images kept; 0 turns the pool off", at_least=0)
        if generator is not None and not isinstance(generator, torch.Generator):
            raise TypeError(f"generator must be a torch.Generator, got {type(generator).__name__}")
        self.generator = generator if generator is not None else torch.Generator().manual_seed(0)
        self.images: list[torch.Tensor] = []

    def __len__(self) -> int:
        return len(self.images)

    def query(self, images: torch.Tensor) -> torch.Tensor:
        """Return a batch the shape of ``images``: each one itself, or a stored fake it replaced."""
        checks.float_tensor("images", images, "generated images")
        if self.size == 0:
            return images
        if self.images and images.shape[1:] != self.images[0].shape:
            raise ValueError(f"images must have the shape of the pool's, (N, {', '.join(map(str, self.images[0].shape))})"
                             f", got {tuple(images.shape)}")
        out = []
        for image in images.detach():
            if len(self.images) < self.size:  # filling up: keep it and hand it on
                self.images.append(image.clone())
                out.append(image)
            elif torch.rand((), generator=self.generator).item() < 0.5:
                out.append(image)
            else:  # hand on an old fake, keep the new one in its slot
                slot = int(torch.randint(self.size, (), generator=self.generator))
                out.append(self.images[slot])
                self.images[slot] = image.clone()
        return torch.stack(out)


class Pix2PixSteps(GANSteps):
    """pix2pix: D(input, output) on patches; G: adversarial_weight * GAN loss + l1_weight * L1 to the target.

    ``distance='l2'`` puts the squared error in place of L1 (the History's ``l1`` stays the L1).
    """

    def __init__(self, l1_weight: float = 100.0, adversarial_weight: float = 1.0, *, distance: str = "l1") -> None:
        self.l1_weight = checks.number("l1_weight", l1_weight, "the L1 term's weight (pix2pix: 100)", at_least=0)
        self.adversarial_weight = checks.number("adversarial_weight", adversarial_weight,
                                                "1 for pix2pix, 0 for L1 alone", at_least=0)
        self.distance = checks.one_of("distance", distance, ("l1", "l2"),
                                      "'l1' as pix2pix; 'l2' (squared error) to see the mean's blur")

    def d_step(self, G: nn.Module, D: nn.Module, real: torch.Tensor, cond: tuple[torch.Tensor, ...],
               d_loss: DLoss) -> DStep:
        """Translate the batch's inputs; D scores (input, target) as real and (input, G(input)) as fake."""
        source, target = split_domains(real)
        fake = G(source)
        real_scores = D(torch.cat([source, target], dim=1))
        fake_scores = D(torch.cat([source, fake.detach()], dim=1))
        return DStep(d_loss(real_scores, fake_scores), real_scores, fake_scores, real, fake)

    def penalty(self, D: nn.Module, d: DStep) -> torch.Tensor:
        """pix2pix uses no gradient penalty: leave TrainConfig.gp_weight at 0."""
        raise ValueError("Pix2PixSteps has no gradient penalty: use TrainConfig(gp_weight=0)")

    def g_step(self, G: nn.Module, D: nn.Module, d: DStep, g_loss: GLoss) -> GStep:
        """Return the weighted GAN loss and, as the further term, the weighted L1 to the targets."""
        source, target = split_domains(d.real)
        adversarial = g_loss(D(torch.cat([source, d.fake], dim=1)))
        error = d.fake - target
        l1 = error.abs().mean()
        distance = l1 if self.distance == "l1" else error.pow(2).mean()
        return GStep(self.adversarial_weight * adversarial, self.l1_weight * distance, {"l1": l1.detach()})


class CycleGANSteps(GANSteps):
    """CycleGAN: two translators, two discriminators, cycle and identity losses, an image pool per domain."""

    def __init__(self, lambda_cyc: float = 10.0, lambda_id: float = 0.5, pool_size: int = 50,
                 seed: int = 0) -> None:
        self.lambda_cyc = checks.number("lambda_cyc", lambda_cyc, "the cycle losses' weight (CycleGAN: 10)",
                                        at_least=0)
        self.lambda_id = checks.number("lambda_id", lambda_id,
                                       "the identity losses' weight relative to lambda_cyc (CycleGAN: 0.5)",
                                       at_least=0)
        checks.integer("seed", seed, "seeds the pools' random draws", at_least=0)
        self.pools = {domain: ImagePool(pool_size, torch.Generator().manual_seed(seed + i))
                      for i, domain in enumerate("ab")}

    def check(self, G: nn.Module, D: nn.Module) -> None:
        """Refuse anything but a CycleGenerators G and a CycleDiscriminators D."""
        if not isinstance(G, CycleGenerators) or not isinstance(D, CycleDiscriminators):
            raise TypeError("CycleGANSteps trains G = CycleGenerators(ab, ba) and D = CycleDiscriminators(a, b), "
                            f"got {type(G).__name__} and {type(D).__name__}")

    def d_step(self, G: nn.Module, D: nn.Module, real: torch.Tensor, cond: tuple[torch.Tensor, ...],
               d_loss: DLoss) -> DStep:
        """Translate both domains; each D scores its domain's reals against pooled fakes."""
        a, b = split_domains(real)
        fake_b, fake_a = G(a, b)
        pooled_a, pooled_b = self.pools["a"].query(fake_a.detach()), self.pools["b"].query(fake_b.detach())
        real_a, real_b = D(a, b)
        fake_a_scores, fake_b_scores = D(pooled_a, pooled_b)
        loss = d_loss(real_a, fake_a_scores) + d_loss(real_b, fake_b_scores)
        real_scores = torch.cat([real_a.flatten(), real_b.flatten()])
        fake_scores = torch.cat([fake_a_scores.flatten(), fake_b_scores.flatten()])
        return DStep(loss, real_scores, fake_scores, real, torch.cat([fake_a, fake_b], dim=1))

    def penalty(self, D: nn.Module, d: DStep) -> torch.Tensor:
        """CycleGAN uses no gradient penalty: leave TrainConfig.gp_weight at 0."""
        raise ValueError("CycleGANSteps has no gradient penalty: use TrainConfig(gp_weight=0)")

    def g_step(self, G: nn.Module, D: nn.Module, d: DStep, g_loss: GLoss) -> GStep:
        """Return both adversarial losses and, as the further term, the weighted cycle and identity losses."""
        a, b = split_domains(d.real)
        fake_a, fake_b = split_domains(d.fake)
        scores_a, scores_b = D(fake_a, fake_b)
        adversarial = g_loss(scores_a) + g_loss(scores_b)
        rec_b, rec_a = G(fake_a, fake_b)  # A -> B -> A and B -> A -> B
        cycle = cycle_consistency_loss(a, rec_a) + cycle_consistency_loss(b, rec_b)
        aux = self.lambda_cyc * cycle
        stats = {"cycle": cycle.detach() / 2}
        if self.lambda_id > 0:
            same_b, same_a = G(b, a)  # each translator fed an image already in its target domain
            identity = identity_loss(b, same_b) + identity_loss(a, same_a)
            aux = aux + self.lambda_id * self.lambda_cyc * identity
            stats["identity"] = identity.detach() / 2
        return GStep(adversarial, aux, stats)
