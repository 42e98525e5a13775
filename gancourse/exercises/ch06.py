"""Checks for the exercises of Chapter 6 (InfoGAN): the latent code sampler and the mutual-information loss.

The sampler is checked on 20,000 draws against the distributions' moments, with tolerances of at
least seven standard errors (so no seed makes a right answer fail); the loss against values worked
out by hand in the comments. Reference solutions, with the names and signatures the checks call:

    import math
    import torch
    import torch.nn.functional as F

    def sample_codes(n, noise_dim, n_categories, n_continuous):
        ### BEGIN SOLUTION
        noise = torch.randn(n, noise_dim)
        c_cat = torch.randint(n_categories, (n,))
        c_cont = torch.rand(n, n_continuous) * 2 - 1
        z = torch.cat([noise, F.one_hot(c_cat, n_categories).float(), c_cont], dim=1)
        return z, c_cat, c_cont
        ### END SOLUTION

    def mi_loss(cat_logits, c_cat, mu, log_std, c_cont, lambda_cat, lambda_cont):
        ### BEGIN SOLUTION
        cross_entropy = F.cross_entropy(cat_logits, c_cat)
        nll = log_std + 0.5 * ((c_cont - mu) / log_std.exp()) ** 2 + 0.5 * math.log(2 * math.pi)
        return lambda_cat * cross_entropy + lambda_cont * nll.sum(dim=1).mean()
        ### END SOLUTION

The package's versions: ``gancourse.models.sample_latent`` and ``gancourse.losses.mutual_information_loss``.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import torch

from gancourse.exercises._check import ExerciseError, call_student, expect, passed, refuses

__all__ = ["check_sample_codes", "check_mi_loss", "check_code_matches_classes"]

LOG_2PI = math.log(2 * math.pi)


@refuses("gancourse.models.noise.sample_latent")
def check_sample_codes(fn: Callable[..., Any]) -> None:
    """Check sample_codes(n, noise_dim, n_categories, n_continuous) -> (z, c_cat, c_cont)."""
    name = "sample_codes"
    n, d, k, m = 20_000, 3, 5, 2
    out = call_student(fn, n, d, k, m)
    expect(out is not None, f"{name} returned None: did you forget `return z, c_cat, c_cont`?")
    expect(isinstance(out, (tuple, list)) and len(out) == 3 and all(isinstance(t, torch.Tensor) for t in out),
           f"{name} must return three tensors (z, c_cat, c_cont), got {type(out).__name__}")
    z, c_cat, c_cont = out
    if tuple(c_cat.shape) == (n, k):
        raise ExerciseError(f"{name}: c_cat must be the category INDEX per sample, shape (n,), not its one-hot "
                            "vector (that goes into z)")
    expect(tuple(c_cat.shape) == (n,) and not c_cat.dtype.is_floating_point,
           f"{name}: c_cat must be integer category indices of shape ({n},), got {c_cat.dtype} {tuple(c_cat.shape)}")
    expect(tuple(c_cont.shape) == (n, m), f"{name}: c_cont must have shape (n, n_continuous) = ({n}, {m}), got "
                                          f"{tuple(c_cont.shape)}")
    expect(tuple(z.shape) == (n, d + k + m), f"{name}: z = [noise, one_hot(c_cat), c_cont] must have shape "
                                             f"(n, noise_dim + n_categories + n_continuous) = ({n}, {d + k + m}), "
                                             f"got {tuple(z.shape)}")
    expect(z.dtype == torch.float32, f"{name}: z must be float32 (G's input), got {z.dtype}")

    # The categorical code: uniform on {0, ..., k-1}; each frequency 1/k = 0.2 (standard error 0.003).
    expect(int(c_cat.min()) >= 0 and int(c_cat.max()) <= k - 1,
           f"{name}: categories must lie in 0..{k - 1}, got {int(c_cat.min())}..{int(c_cat.max())}")
    freq = torch.bincount(c_cat.long(), minlength=k).float() / n
    expect(freq.min().item() > 0.17 and freq.max().item() < 0.23,
           f"{name}: every category should be equally likely (0.2 each for 5), got frequencies "
           f"{[round(f, 3) for f in freq.tolist()]}" + (": torch.randint(n_categories, ...) draws 0..n_categories-1"
                                                        if freq.min().item() == 0 else ""))
    one_hot = torch.eye(k)[c_cat.long()]
    if torch.equal(z[:, :k], one_hot):
        raise ExerciseError(f"{name}: z starts with the one-hot code; the order is [noise, one_hot(c_cat), c_cont]")
    expect(torch.equal(z[:, d:d + k], one_hot),
           f"{name}: z[:, noise_dim:noise_dim + n_categories] must be the one-hot vector of c_cat (the SAME "
           "categories you return), a 1 at c_cat and 0 elsewhere")

    # The continuous codes: U(-1, 1): mean 0, standard deviation 1/sqrt(3) = 0.577, range [-1, 1].
    expect(torch.equal(z[:, d + k:], c_cont), f"{name}: the last n_continuous columns of z must be c_cont itself")
    lo, hi, mean, std = c_cont.min().item(), c_cont.max().item(), c_cont.mean().item(), c_cont.std().item()
    if lo >= 0:
        raise ExerciseError(f"{name}: c_cont lies in [{lo:.2f}, {hi:.2f}]: torch.rand draws U(0, 1); the codes are "
                            "U(-1, 1): 2 * torch.rand(...) - 1")
    expect(lo >= -1 and hi <= 1, f"{name}: c_cont must lie in [-1, 1] (uniform), got values from {lo:.2f} to "
                                 f"{hi:.2f}" + (": torch.randn draws a Gaussian" if hi > 1.5 else ""))
    expect(lo < -0.99 and hi > 0.99 and abs(mean) < 0.03 and abs(std - 3**-0.5) < 0.03,
           f"{name}: c_cont should be uniform on [-1, 1] (mean 0, std 0.577, reaching both ends), got mean "
           f"{mean:.3f}, std {std:.3f}, range [{lo:.2f}, {hi:.2f}]")
    per_code = c_cont.std(dim=0)
    expect(per_code.min().item() > 0.5, f"{name}: every sample needs its own continuous codes; their spread per "
                                        f"code is {per_code.tolist()}")
    r = torch.corrcoef(c_cont.T)[0, 1].item()
    expect(abs(r) < 0.05, f"{name}: the continuous codes must be drawn independently, got correlation {r:.2f}")

    # The noise: N(0, 1): mean 0, std 1, and values beyond +-1 (a third of them).
    noise = z[:, :d]
    expect(abs(noise.mean().item()) < 0.05 and abs(noise.std().item() - 1) < 0.05,
           f"{name}: the noise part z[:, :noise_dim] should be N(0, 1) (torch.randn), got mean "
           f"{noise.mean().item():.3f} and std {noise.std().item():.3f}")
    passed(name)


@refuses("gancourse.losses.information.mutual_information_loss")
def check_mi_loss(fn: Callable[..., Any]) -> None:
    """Check mi_loss(cat_logits, c_cat, mu, log_std, c_cont, lambda_cat, lambda_cont) against hand-worked values."""
    name = "mi_loss"

    def run(*args: Any) -> float:
        got = call_student(fn, *args)
        expect(got is not None, f"{name} returned None: did you forget `return`?")
        expect(isinstance(got, torch.Tensor) and got.numel() == 1,
               f"{name} must return one number as a tensor (so it can be backpropagated), got "
               f"{type(got).__name__} {tuple(getattr(got, 'shape', ()))}")
        return float(got.detach())

    def close(a: float, b: float) -> bool:
        return math.isfinite(a) and abs(a - b) < 1e-4

    # Categorical alone (lambda_cont = 0). Logits (0, ln 3): Q gives p = (1/4, 3/4). Sample 1 has c = 1,
    # -ln(3/4) = 0.28768; sample 2 has c = 0, -ln(1/4) = 1.38629. Mean: 0.83698.
    cat_logits = torch.tensor([[0.0, math.log(3)], [0.0, math.log(3)]])
    c_cat = torch.tensor([1, 0])
    mu, log_std, c_cont = torch.zeros(2, 2), torch.zeros(2, 2), torch.zeros(2, 2)
    got = run(cat_logits, c_cat, mu, log_std, c_cont, 1.0, 0.0)
    if not math.isfinite(got):
        raise ExerciseError(f"{name} returned {got} with lambda_cont = 0 and log_std = 0 (std = 1): is log_std used as "
                            "the standard deviation (dividing by 0)? std = exp(log_std)")
    if close(got, LOG_2PI):
        raise ExerciseError(f"{name}: with lambda_cat = 1 and lambda_cont = 0 you returned the Gaussian NLL "
                            f"({got:.5f}): the weights are swapped; lambda_cat multiplies the cross-entropy")
    p = torch.softmax(cat_logits[0], 0)
    twice = -torch.log_softmax(p, 0)[[1, 0]].mean().item()  # softmax applied to probabilities
    cat_mistakes = {
        1.67398: "you summed over the batch; take the mean",
        -0.83698: "the sign is flipped: the loss is the cross-entropy -E[log Q(c | x)], which G and Q minimise",
        round(twice, 5): "you applied softmax twice: F.cross_entropy takes raw logits",
        -0.5: "you averaged the probabilities of the true codes; the loss is -mean(log p)",
    }
    for value, why in cat_mistakes.items():
        if close(got, value):
            raise ExerciseError(f"{name}: the categorical cross-entropy here is 0.83698, got {got:.5f}: {why}")
    expect(close(got, 0.83698), f"{name}: with logits (0, ln 3) for codes 1 and 0, the cross-entropy is "
                                f"(-ln 3/4 - ln 1/4) / 2 = 0.83698, got {got:.5f}")
    got = run(cat_logits, c_cat, mu, log_std, c_cont, 2.0, 0.0)
    expect(close(got, 2 * 0.83698), f"{name}: lambda_cat = 2 doubles the cross-entropy to 1.67396, got {got:.5f}")

    # Continuous alone (lambda_cat = 0). Per code: log_std + (c - mu)^2 / (2 std^2) + ln(2 pi) / 2.
    # Code 1: c = 1, mu = 0, std = 2: ln 2 + 1/8 + 0.91894 = 1.73709. Code 2: c = mu, std = 1: 0.91894.
    # Summed over the codes: 2.65603, the same for both samples.
    mu = torch.tensor([[0.0, 0.5], [0.0, 0.5]])
    log_std = torch.tensor([[math.log(2), 0.0], [math.log(2), 0.0]])
    c_cont = torch.tensor([[1.0, 0.5], [1.0, 0.5]])
    code1, code2 = math.log(2) + 1 / 8 + LOG_2PI / 2, LOG_2PI / 2
    want = code1 + code2
    got = run(cat_logits, c_cat, mu, log_std, c_cont, 0.0, 1.0)
    if not math.isfinite(got):
        raise ExerciseError(f"{name}: the loss is {got} where log_std = 0 (std = 1): did you use log_std as the "
                            "standard deviation? std = exp(log_std)")
    cont_mistakes = {
        want - LOG_2PI: "you left out the constant ln(2 pi) / 2 per code; the full negative log-density keeps it "
                        "(it makes log 2 - NLL a bound on each code's information)",
        want / 2: "you averaged over the codes; the NLL of independent codes is their SUM (mean over the batch only)",
        2 * want: "you summed over the batch; take the mean over the samples",
        -want: "the sign is flipped: minimise the NEGATIVE log-likelihood",
        math.log(2) + 1 / 4 + LOG_2PI: "the squared error needs its 1/2: (c - mu)^2 / (2 std^2)",
        0.5 * math.log(2) + 1 / 4 + LOG_2PI: "you treated log_std as the log-VARIANCE (std = exp(log_std / 2)); it "
                                             "is the log of the standard deviation",
        0.5: "that is a squared error (c - mu)^2; use the Gaussian negative log-likelihood, with log_std and "
             "the constant",
        1.0: "that is the summed squared error (c - mu)^2; use the Gaussian negative log-likelihood",
    }
    for value, why in cont_mistakes.items():
        if close(got, value):
            raise ExerciseError(f"{name}: the Gaussian NLL here is {want:.5f}, got {got:.5f}: {why}")
    expect(close(got, want), f"{name}: for codes c = (1, 0.5), mu = (0, 0.5), std = (2, 1) the NLL is "
                             f"(ln 2 + 1/8 + ln(2 pi)/2) + ln(2 pi)/2 = {want:.5f}, got {got:.5f}")

    # Both, weighted as InfoGAN weights them: 1 * 0.83698 + 0.1 * 2.65603 = 1.10258.
    got = run(cat_logits, c_cat, mu, log_std, c_cont, 1.0, 0.1)
    both = 0.83698 + 0.1 * want
    if close(got, 0.1 * 0.83698 + want):
        raise ExerciseError(f"{name}: the weights are swapped: lambda_cat multiplies the cross-entropy, "
                            "lambda_cont the Gaussian NLL")
    expect(abs(got - both) < 1e-4, f"{name}: lambda_cat * CE + lambda_cont * NLL = 0.83698 + 0.1 * {want:.5f} = "
                                   f"{both:.5f}, got {got:.5f}")

    # Gradients (lambdas 1): for sample i, code 1: d/dmu = -(c - mu) / std^2 / N = -1/4 / 2 = -0.125,
    # d/dlog_std = (1 - (c - mu)^2 / std^2) / N = (1 - 1/4) / 2 = 0.375; code 2 (c = mu): 0 and 1/2.
    # d/dcat_logits = (softmax - one_hot) / N: sample 1 ((1/4, -1/4)) / 2.
    cat_logits = cat_logits.clone().requires_grad_(True)
    mu, log_std = mu.clone().requires_grad_(True), log_std.clone().requires_grad_(True)
    out = call_student(fn, cat_logits, c_cat, mu, log_std, c_cont, 1.0, 1.0)
    expect(isinstance(out, torch.Tensor) and out.requires_grad,
           f"{name} must stay differentiable in Q's outputs: build it from torch operations (no .item(), no floats)")
    out.backward()
    ok = (mu.grad is not None and log_std.grad is not None and cat_logits.grad is not None
          and torch.allclose(mu.grad, torch.tensor([[-0.125, 0.0]] * 2), atol=1e-6)
          and torch.allclose(log_std.grad, torch.tensor([[0.375, 0.5]] * 2), atol=1e-6)
          and torch.allclose(cat_logits.grad[0], torch.tensor([0.125, -0.125]), atol=1e-6))
    expect(ok, f"{name}: its gradients should be d/dmu = (-0.125, 0), d/dlog_std = (0.375, 0.5) per sample and "
               "d/dlogits = (softmax - one_hot) / N: is every term differentiable?")
    passed(name)


# -- Experiment: an InfoGAN whose categorical code picks the digit -----------------------------

def check_code_matches_classes(generator: Any, target: float = 0.5, n_categories: int = 10,
                               n_continuous: int = 2) -> None:
    """Grade an InfoGAN generator of 28 x 28 glyphs: how well its categorical code matches the digits.

    The generator reads [noise, one_hot(c_cat), c_cont] (its ``z_dim`` counts all three); the
    matching accuracy is the share of 1,000 samples whose code value, under the best one-to-one
    assignment of code values to digits, is the digit the glyph judge reads.
    """
    from gancourse.metrics.factors import measure_codes
    from gancourse.metrics.judges import glyph_classifier

    name = "code_matches_classes"
    expect(isinstance(getattr(generator, "z_dim", None), int) and callable(generator),
           f"{name}: pass the generator itself, an nn.Module with a z_dim attribute")
    judge = glyph_classifier().model

    def classify(images: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return judge(images.float()).argmax(1)

    m = measure_codes(generator, classify, n_categories, n_continuous, n=1_000, seed=123)
    chance = 1 / n_categories
    expect(m.matching_accuracy >= target,
           f"{name}: the categorical code matches the digits for {m.matching_accuracy:.0%} of the samples "
           f"(chance is about {chance:.0%}; at least {target:.0%} asked): raise lambda_cat, train longer, "
           "or check that Q's categorical head is trained on both steps")
    print(f"matching accuracy of the categorical code: {m.matching_accuracy:.1%}")
    passed(name)
