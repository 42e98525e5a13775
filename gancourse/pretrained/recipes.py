"""The five training recipes of Chapter 4's table, one per method, shared by the ring and the grid.

Every method trains the same two networks, G with 3 hidden layers of 96 ReLU units and batch norm
on z of dimension 2 (stored in float16: about 40 KB a model), D with 3 hidden layers of 128
LeakyReLU units, with its own losses, constraint and optimiser, taken from its paper, and the same
schedule: the learning rates fall linearly to 0 over the last 70 % of the steps (most of the
sharpening of the samples happens while they fall), and the shipped generator is an exponential
moving average of G's weights. ``scripts/train_toy_models.py`` trains these recipes; the notebook
trains them briefly.
"""

from __future__ import annotations

from gancourse.pretrained.grouped import ToyRecipe

__all__ = ["RECIPES"]

_SHARED = dict(batch_size=256, decay_from=0.3, ema_decay=0.999, z_dim=2, g_hidden=(96, 96, 96),
               d_hidden=(128, 128, 128), g_batch_norm=True)

RECIPES: dict[str, ToyRecipe] = {
    # The original game (Goodfellow et al., 2014): saturating G loss; Adam as in Chapter 2.
    "gan": ToyRecipe(loss="minimax", lr_d=1e-3, lr_g=1e-3, betas=(0.5, 0.999), steps=8_000, **_SHARED),
    # The same game with the non-saturating G loss.
    "nsgan": ToyRecipe(loss="nonsaturating", lr_d=1e-3, lr_g=1e-3, betas=(0.5, 0.999), steps=8_000, **_SHARED),
    # WGAN (Arjovsky et al., 2017): weight clipping c = 0.01, RMSProp 5e-5, 5 critic steps.
    "wgan": ToyRecipe(loss="wasserstein", optimizer="rmsprop", lr_d=5e-5, lr_g=5e-5, n_critic=5, clip_value=0.01,
                      steps=4_000, **_SHARED),
    # WGAN-GP (Gulrajani et al., 2017): Adam beta = (0, 0.9), 5 critic steps, the critic learning twice as fast as
    # G (a two time-scale rule). lambda = 1, not the paper's 10: with lambda = 10 these learning rates collapse the
    # grid to no mode at all, and the slow rates that lambda = 10 needs leave the grid blurred (Chapter 4 measures
    # both). Its generator step averages over 1,024 noise samples: the critic's gradient has norm about 1 at every
    # sample, on a mode or not, so a small batch gives G a noisy direction (and noisy batch-norm statistics).
    "wgan-gp": ToyRecipe(loss="wasserstein", lr_d=4e-3, lr_g=2e-3, betas=(0.0, 0.9), n_critic=5, gp_weight=1.0,
                         steps=20_000, g_batch_size=1_024, **_SHARED),
    # Spectral normalisation with the hinge loss (Miyato et al., 2018), one D step per G step.
    "sn-hinge": ToyRecipe(loss="hinge", lr_d=2e-4, lr_g=2e-4, betas=(0.5, 0.999), spectral_norm=True,
                          steps=8_000, **_SHARED),
}
