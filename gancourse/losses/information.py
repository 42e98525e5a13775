"""InfoGAN's mutual-information term (Chen et al., 2016) and the lower bound it raises.

G reads latent codes c (a categorical code c_cat ~ Cat(K) and continuous codes c_cont ~ U(-1, 1))
beside its noise; a network Q(c | x) guesses them back from G's images. The variational bound

    I(c; G(z, c)) >= H(c) + E[log Q(c | G(z, c))] =: L_I

rises as Q's guesses get better, so G and Q both minimise -E[log Q(c | x)]: the cross-entropy of
Q's logits with c_cat, and for each continuous code the negative log-likelihood of c_cont under
the Gaussian N(mu, exp(log_std)^2) that Q predicts. ``mutual_information_loss`` returns
lambda_cat * CE + lambda_cont * NLL, i.e. -L_I up to the constant H(c); the paper uses lambda = 1
for a categorical code and a smaller weight for continuous ones (here 0.1).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from gancourse.checks import number

__all__ = [
    "categorical_code_loss",
    "continuous_code_nll",
    "mutual_information_loss",
    "categorical_mi_lower_bound",
    "continuous_mi_lower_bound",
]


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
    lambda_cat = number("lambda_cat", lambda_cat, "the categorical code's weight, e.g. 1", at_least=0)
    lambda_cont = number("lambda_cont", lambda_cont, "the continuous codes' weight, e.g. 0.1", at_least=0)
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
