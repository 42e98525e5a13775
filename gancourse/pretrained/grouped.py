"""Several small MLP GANs trained at once, as one batched ("grouped") model.

A 2-D toy GAN is too small to keep a CPU core busy: most of a step's time goes to launching many
tiny matrix products. ``GroupedMLP`` stacks the weights of M networks of one architecture into
tensors of shape (M, fan_in, fan_out) and evaluates all M with one ``torch.baddbmm`` per layer, on
inputs of shape (M, batch, features). The M members never interact:

- each member's output depends only on its own weights and its own slice of the input;
- every loss below is a SUM over members of that member's own loss, so each member's gradient is
  exactly the gradient it would get alone;
- Adam and RMSProp act element by element, so one optimiser over the stacked tensors takes the
  same steps as M separate optimisers.

Training M members together is therefore M ordinary runs, up to float rounding, only faster.
``train_grouped`` runs one ``ToyRecipe`` (a method of Chapter 4) on several (dataset, seed) pairs
at once; ``GroupedMLP.member(m)`` returns member m as a plain ``MLPGenerator``.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from gancourse.data.toy import Toy2D
from gancourse.losses import LOSS_KINDS
from gancourse.models import MLPDiscriminator, MLPGenerator

__all__ = ["GroupedMLP", "ToyRecipe", "GroupedRun", "train_grouped"]


class GroupedMLP(nn.Module):
    """M independent MLPs of one architecture, evaluated together: (M, B, in) -> (M, B, out).

    Built from M ``MLPGenerator`` (ReLU, linear output, with or without batch norm) or
    ``MLPDiscriminator`` (LeakyReLU, with ``norm=None`` or ``'layer'``) modules, whose weights and
    batch-norm statistics it copies. With ``spectral_norm=True`` each member's weight matrices
    are divided by their largest singular value, estimated by one power iteration per training
    forward pass, as ``torch.nn.utils.parametrizations.spectral_norm`` does for one network.
    """

    def __init__(self, members: Sequence[nn.Module], *, spectral_norm: bool = False) -> None:
        super().__init__()
        if len(members) == 0:
            raise ValueError("GroupedMLP needs at least one member network")
        kinds = {type(m) for m in members}
        if len(kinds) != 1 or not kinds <= {MLPGenerator, MLPDiscriminator}:
            names = sorted(k.__name__ for k in kinds)
            raise TypeError(f"members must all be MLPGenerator or all MLPDiscriminator, got {names}")
        first = members[0]
        if isinstance(first, MLPDiscriminator):
            if any(m.norm not in (None, "layer") or m.norm != first.norm or m.spectral_norm for m in members):
                raise ValueError("GroupedMLP copies discriminators with norm=None or norm='layer' (all alike) and "
                                 "spectral_norm=False; ask for spectral normalisation with "
                                 "GroupedMLP(..., spectral_norm=True)")
        layers = [[m for m in member.modules() if isinstance(m, nn.Linear)] for member in members]
        shapes = [[tuple(lin.weight.shape) for lin in ls] for ls in layers]
        if any(s != shapes[0] for s in shapes):
            raise ValueError("every member must have the same architecture (layer shapes)")
        if isinstance(first, MLPGenerator):
            if any(isinstance(m, nn.Tanh) for member in members for m in member.modules()):
                raise ValueError("GroupedMLP copies generators with a linear output (MLPGenerator(..., tanh=False))")
            self.kind, self.slope = "generator", 0.0                     # ReLU
            self.z_dim, self.out_shape = first.z_dim, first.out_shape
        else:
            slope = [m for m in first.modules() if isinstance(m, nn.LeakyReLU)]
            self.kind, self.slope = "discriminator", slope[0].negative_slope if slope else 0.2
        self.members = len(members)
        self.hidden = tuple(lin.out_features for lin in layers[0][:-1])
        # weights[i]: (M, fan_in, fan_out), i.e. each member's nn.Linear weight transposed; biases[i]: (M, 1, fan_out).
        self.weights = nn.ParameterList(
            nn.Parameter(torch.stack([ls[i].weight.detach().T for ls in layers]).contiguous())
            for i in range(len(layers[0])))
        self.biases = nn.ParameterList(
            nn.Parameter(torch.stack([ls[i].bias.detach()[None] for ls in layers]).contiguous())
            for i in range(len(layers[0])))
        # LayerNorm after each hidden Linear (a critic with norm='layer'): its scale and shift, (M, 1, width).
        norms = [[m for m in member.modules() if isinstance(m, nn.LayerNorm)] for member in members]
        self.layer_norm = bool(norms[0])
        self.norm_weights = nn.ParameterList(
            nn.Parameter(torch.stack([ns[i].weight.detach()[None] for ns in norms]).contiguous())
            for i in range(len(norms[0])))
        self.norm_biases = nn.ParameterList(
            nn.Parameter(torch.stack([ns[i].bias.detach()[None] for ns in norms]).contiguous())
            for i in range(len(norms[0])))
        # BatchNorm1d after each hidden Linear (a generator with batch_norm=True): each member normalises over
        # its own slice of the batch and keeps its own running statistics, all of shape (M, 1, width).
        bns = [[m for m in member.modules() if isinstance(m, nn.BatchNorm1d)] for member in members]
        if any(len(b) != len(bns[0]) for b in bns):
            raise ValueError("every member must have the same architecture (batch norm or not)")
        self.batch_norm = bool(bns[0])
        self.bn_momentum, self.bn_eps = (bns[0][0].momentum, bns[0][0].eps) if self.batch_norm else (0.1, 1e-5)
        self.bn_weights = nn.ParameterList(
            nn.Parameter(torch.stack([b[i].weight.detach()[None] for b in bns]).contiguous())
            for i in range(len(bns[0])))
        self.bn_biases = nn.ParameterList(
            nn.Parameter(torch.stack([b[i].bias.detach()[None] for b in bns]).contiguous())
            for i in range(len(bns[0])))
        for i in range(len(bns[0])):
            self.register_buffer(f"_mean{i}", torch.stack([b[i].running_mean[None] for b in bns]).clone())
            self.register_buffer(f"_var{i}", torch.stack([b[i].running_var[None] for b in bns]).clone())
        self.register_buffer("_batches", torch.tensor(0, dtype=torch.long))
        self.spectral_norm = spectral_norm
        if spectral_norm:
            for i, w in enumerate(self.weights):
                self.register_buffer(f"_u{i}", F.normalize(torch.randn(self.members, w.shape[2]), dim=1))

    def _weight(self, i: int) -> torch.Tensor:
        """Return layer i's stacked weights, each member's divided by its spectral norm when asked."""
        w = self.weights[i]
        if not self.spectral_norm:
            return w
        u = getattr(self, f"_u{i}")
        with torch.no_grad():
            v = F.normalize(torch.bmm(w, u[:, :, None])[:, :, 0], dim=1)      # (M, fan_in)
            if self.training:  # one power iteration per training forward pass
                u = F.normalize(torch.bmm(v[:, None, :], w)[:, 0, :], dim=1)  # (M, fan_out)
                setattr(self, f"_u{i}", u)
                v = F.normalize(torch.bmm(w, u[:, :, None])[:, :, 0], dim=1)
        sigma = torch.einsum("mi,mio,mo->m", v, w, u)  # v^T W u, differentiable in W
        return w / sigma[:, None, None]

    def _check_input(self, x: torch.Tensor) -> None:
        """Raise ValueError unless x has shape (M, B, features), one slice per member."""
        if x.ndim != 3 or x.shape[0] != self.members:
            raise ValueError(f"a GroupedMLP of {self.members} members expects input of shape ({self.members}, B, "
                             f"features), got {tuple(x.shape)}")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return each member's output on its own slice: x (M, B, fan_in) -> (M, B, fan_out)."""
        self._check_input(x)
        last = len(self.weights) - 1
        for i in range(last + 1):
            x = torch.baddbmm(self.biases[i], x, self._weight(i))
            if i < last and self.layer_norm:  # per sample, over its features: members stay independent
                x = F.layer_norm(x, x.shape[-1:]) * self.norm_weights[i] + self.norm_biases[i]
            if i < last and self.batch_norm:
                x = self._batch_norm(i, x)
            if i < last:
                x = F.leaky_relu(x, self.slope) if self.slope else F.relu(x)
        return x

    def input_gradient(self, x: torch.Tensor) -> torch.Tensor:
        """Return each member's gradient of its score with respect to its input, d f_m(x) / dx: (M, B, fan_in).

        For the penalty of WGAN-GP. The result is differentiable in the weights, like
        ``torch.autograd.grad(self(x).sum(), x, create_graph=True)``, but cheaper: for a LeakyReLU
        network the gradient is the chain W_1^T S_1 W_2^T S_2 ... w_L, where each S_i holds the
        activation's slopes (1 or the leak) at the layer's pre-activations. The slopes do not depend
        on the weights almost everywhere, so they come from one forward pass without autograd, and
        only the chain is recorded: about half the work of differentiating a recorded backward pass.
        Critics with layer norm are not supported (their gradient has more terms).
        """
        if self.kind != "discriminator" or self.layer_norm:
            raise ValueError("input_gradient() is for critics without layer norm; use torch.autograd.grad "
                             "with create_graph=True for other networks")
        self._check_input(x)
        weights = [self._weight(i) for i in range(len(self.weights))]
        slopes = []
        with torch.no_grad():
            h = x
            for w, b in zip(weights[:-1], self.biases):
                h = torch.baddbmm(b, h, w)
                slopes.append(torch.ones_like(h).masked_fill_(h <= 0, self.slope))  # as leaky_relu's backward
                h = h * slopes[-1]
        g = weights[-1][:, :, 0].unsqueeze(1) * slopes[-1]            # (M, B, width of the last hidden layer)
        for w, s in zip(reversed(weights[1:-1]), reversed(slopes[:-1])):
            g = torch.bmm(g, w.transpose(1, 2)) * s
        return torch.bmm(g, weights[0].transpose(1, 2))

    def _batch_norm(self, i: int, x: torch.Tensor) -> torch.Tensor:
        """Return layer i's batch norm of x (M, B, C), each member over its own B samples, as BatchNorm1d does."""
        running_mean, running_var = getattr(self, f"_mean{i}"), getattr(self, f"_var{i}")
        if self.training:
            mean, var = x.mean(dim=1, keepdim=True), x.var(dim=1, unbiased=False, keepdim=True)
            with torch.no_grad():  # BatchNorm1d's running estimates: the unbiased variance, momentum 0.1
                n = x.shape[1]
                running_mean.lerp_(mean, self.bn_momentum)
                running_var.lerp_(var * n / max(n - 1, 1), self.bn_momentum)
                if i == 0:
                    self._batches += 1
        else:
            mean, var = running_mean, running_var
        return (x - mean) / torch.sqrt(var + self.bn_eps) * self.bn_weights[i] + self.bn_biases[i]

    def member(self, m: int) -> MLPGenerator:
        """Return member m of a grouped generator as a plain MLPGenerator (a copy, in eval mode)."""
        if self.kind != "generator":
            raise TypeError("member() exports generators only")
        G = MLPGenerator(self.z_dim, self.out_shape, self.hidden, tanh=False, batch_norm=self.batch_norm)
        linears = [lin for lin in G.modules() if isinstance(lin, nn.Linear)]
        bns = [bn for bn in G.modules() if isinstance(bn, nn.BatchNorm1d)]
        with torch.no_grad():
            for lin, w, b in zip(linears, self.weights, self.biases):
                lin.weight.copy_(w[m].T)
                lin.bias.copy_(b[m, 0])
            for i, bn in enumerate(bns):
                bn.weight.copy_(self.bn_weights[i][m, 0])
                bn.bias.copy_(self.bn_biases[i][m, 0])
                bn.running_mean.copy_(getattr(self, f"_mean{i}")[m, 0])
                bn.running_var.copy_(getattr(self, f"_var{i}")[m, 0])
                bn.num_batches_tracked.fill_(int(self._batches))
        return G.eval()


@dataclass(frozen=True)
class ToyRecipe:
    """How one method of Chapter 4 trains a toy 2-D GAN (the same recipe for the ring and the grid)."""

    loss: str                               # a key of gancourse.losses.LOSS_KINDS
    lr_d: float                             # D's (the critic's) learning rate
    lr_g: float                             # G's learning rate
    betas: tuple[float, float] = (0.5, 0.999)
    optimizer: str = "adam"                 # or "rmsprop" (WGAN with clipping)
    n_critic: int = 1
    gp_weight: float = 0.0                  # WGAN-GP's lambda
    clip_value: float | None = None         # WGAN's c
    spectral_norm: bool = False             # on D's layers
    d_norm: str | None = None               # None or "layer": LayerNorm after each hidden layer of D
    steps: int = 5_000                      # generator steps
    batch_size: int = 256                   # real and fake samples per critic step
    g_batch_size: int | None = None         # noise samples per generator step (None: batch_size)
    decay_from: float = 1.0                 # the lr falls linearly to 0 over the last (1 - decay_from) of the steps
    ema_decay: float | None = None          # keep an EMA of G (the shipped G is the EMA when set)
    z_dim: int = 2
    g_hidden: tuple[int, ...] = (128, 128, 128)
    g_batch_norm: bool = False              # BatchNorm1d after each hidden layer of G
    d_hidden: tuple[int, ...] = (128, 128, 128)

    def __post_init__(self) -> None:
        if self.loss not in LOSS_KINDS:
            raise ValueError(f"loss must be one of {sorted(LOSS_KINDS)}, got {self.loss!r}")
        if self.optimizer not in ("adam", "rmsprop"):
            raise ValueError(f"optimizer must be 'adam' or 'rmsprop', got {self.optimizer!r}")
        if self.d_norm not in (None, "layer"):
            raise ValueError(f"d_norm must be None or 'layer' (batch norm breaks a penalised critic), "
                             f"got {self.d_norm!r}")
        if not 0 <= self.decay_from <= 1:
            raise ValueError(f"decay_from must be a fraction of the steps in [0, 1], got {self.decay_from!r}")
        sizes = {"batch_size": self.batch_size, "g_batch_size": 2 if self.g_batch_size is None else self.g_batch_size}
        for name, value in sizes.items():
            if not isinstance(value, int) or isinstance(value, bool) or value < 2:
                raise ValueError(f"{name} must be an int of at least 2 (batch norm needs two samples), "
                                 f"got {getattr(self, name)!r}")

    def to_dict(self) -> dict:
        """Return the recipe as JSON-able data."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}


@dataclass
class GroupedRun:
    """What ``train_grouped`` returns: the trained members and what it measured."""

    generator: GroupedMLP                   # the trained generators
    ema_generator: GroupedMLP | None        # their EMA, when the recipe asks for one
    critic: GroupedMLP                      # the trained discriminators or critics
    seconds: float                          # wall-clock training time
    w_estimate: list[list[float]] = field(default_factory=list)  # per step: mean f(real) - mean f(fake), per member

    def generators(self) -> list[MLPGenerator]:
        """Return each member's final generator (the EMA one when there is one) as a plain MLPGenerator."""
        source = self.ema_generator if self.ema_generator is not None else self.generator
        return [source.member(m) for m in range(source.members)]


def _lr_factor(recipe: ToyRecipe, step: int) -> float:
    """Return the learning-rate multiplier at generator step ``step`` (1-based): 1, then a linear fall to 0."""
    start = recipe.decay_from * recipe.steps
    if step <= start or recipe.decay_from >= 1:
        return 1.0
    return max(0.0, (recipe.steps - step + 1) / (recipe.steps - start))


def train_grouped(recipe: ToyRecipe, datasets: Sequence[Toy2D], seeds: Sequence[int], *,
                  steps: int | None = None, record_every: int = 0,
                  callback: Callable[[int, GroupedRun], None] | None = None) -> GroupedRun:
    """Train one GAN per (dataset, seed) pair with ``recipe``, all at once; return the trained group.

    Member m's G and D start from ``MLPGenerator``/``MLPDiscriminator`` initialised after
    ``torch.manual_seed(seeds[m])``, so a member starts exactly where a single run with that seed
    would. ``steps`` overrides the recipe's (a short live run of the same recipe). Every
    ``record_every`` steps (0: never) the critics' score gaps are appended to ``run.w_estimate`` and
    ``callback(step, run)`` is called (e.g. to measure the generators; it must not draw from
    torch's global RNG). The global RNG is forked: the caller's random state is left as it was.
    """
    if len(datasets) != len(seeds) or not datasets:
        raise ValueError(f"pass one seed per dataset (got {len(datasets)} datasets and {len(seeds)} seeds)")
    if steps is not None:
        recipe = ToyRecipe(**{**asdict(recipe), "steps": steps})
    M = len(datasets)
    with torch.random.fork_rng():
        generators, critics = [], []
        for seed in seeds:
            torch.manual_seed(seed)
            generators.append(MLPGenerator(recipe.z_dim, 2, recipe.g_hidden, tanh=False,
                                           batch_norm=recipe.g_batch_norm))
            critics.append(MLPDiscriminator(2, recipe.d_hidden, norm=recipe.d_norm))
        G = GroupedMLP(generators)
        D = GroupedMLP(critics, spectral_norm=recipe.spectral_norm)
        G_ema = copy.deepcopy(G).requires_grad_(False) if recipe.ema_decay is not None else None
        if recipe.optimizer == "rmsprop":
            opt_g = torch.optim.RMSprop(G.parameters(), lr=recipe.lr_g)
            opt_d = torch.optim.RMSprop(D.parameters(), lr=recipe.lr_d)
        else:
            opt_g = torch.optim.Adam(G.parameters(), lr=recipe.lr_g, betas=recipe.betas)
            opt_d = torch.optim.Adam(D.parameters(), lr=recipe.lr_d, betas=recipe.betas)
        d_loss_fn, g_loss_fn = LOSS_KINDS[recipe.loss]
        B = recipe.batch_size
        torch.manual_seed(seeds[0] + 10_007)  # the training draws
        run = GroupedRun(G, G_ema, D, 0.0)
        start = time.perf_counter()
        for step in range(1, recipe.steps + 1):
            factor = _lr_factor(recipe, step)
            for opt, lr in ((opt_g, recipe.lr_g), (opt_d, recipe.lr_d)):
                for group in opt.param_groups:
                    group["lr"] = lr * factor
            for _ in range(recipe.n_critic):
                real = torch.stack([toy.sample(B) for toy in datasets])        # (M, B, 2)
                with torch.no_grad():
                    fake = G(torch.randn(M, B, recipe.z_dim))
                real_scores, fake_scores = D(real)[..., 0], D(fake)[..., 0]   # (M, B)
                # The package's losses average over all M * B scores; times M, the sum of the members' own losses.
                loss_d = M * d_loss_fn(real_scores, fake_scores)
                if recipe.gp_weight > 0:
                    alpha = torch.rand(M, B, 1)                                # one alpha per sample
                    x_hat = alpha * real + (1 - alpha) * fake
                    if D.layer_norm:
                        x_hat.requires_grad_(True)
                        (grad,) = torch.autograd.grad(D(x_hat).sum(), x_hat, create_graph=True)
                    else:                                                      # the same, with less work
                        grad = D.input_gradient(x_hat)
                    penalty = ((grad.norm(dim=2) - 1) ** 2).mean(dim=1)        # (M,): each member's penalty
                    loss_d = loss_d + recipe.gp_weight * penalty.sum()
                opt_d.zero_grad(set_to_none=True)
                loss_d.backward()
                opt_d.step()
                if recipe.clip_value is not None:
                    with torch.no_grad():
                        for p in D.parameters():
                            p.clamp_(-recipe.clip_value, recipe.clip_value)
            D.requires_grad_(False)
            loss_g = M * g_loss_fn(D(G(torch.randn(M, recipe.g_batch_size or B, recipe.z_dim)))[..., 0])
            opt_g.zero_grad(set_to_none=True)
            loss_g.backward()
            opt_g.step()
            D.requires_grad_(True)
            if G_ema is not None:
                with torch.no_grad():
                    for p_ema, p in zip(G_ema.parameters(), G.parameters()):
                        p_ema.lerp_(p, 1 - recipe.ema_decay)
                    for b_ema, b in zip(G_ema.buffers(), G.buffers()):
                        b_ema.copy_(b)  # batch norm's running statistics follow G's
            if record_every and (step % record_every == 0 or step == recipe.steps):
                run.w_estimate.append((real_scores.mean(1) - fake_scores.mean(1)).tolist())
                if callback is not None:
                    run.seconds = time.perf_counter() - start
                    callback(step, run)
        if G_ema is not None and G_ema.batch_norm:
            # The running statistics copied from G belong to G's weights: re-estimate them for the averaged
            # weights (50 batches; with momentum 0.1 the old estimate keeps a weight of 0.9^50 = 0.5 %).
            G_ema.train()
            with torch.no_grad():
                for _ in range(50):
                    G_ema(torch.randn(M, 1024, recipe.z_dim))
        run.seconds = time.perf_counter() - start
    G.eval()
    if G_ema is not None:
        G_ema.eval()
    return run
