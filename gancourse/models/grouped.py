"""Several small MLPs of one architecture evaluated as one batched ("grouped") network.

A 2-D toy GAN is too small to keep a CPU core busy: most of a step's time goes to launching many
tiny matrix products. ``GroupedMLP`` stacks the weights of M networks of one architecture into
tensors of shape (M, fan_in, fan_out) and evaluates all M with one ``torch.baddbmm`` per layer, on
inputs of shape (M, batch, features). Each member's output depends only on its own weights and its
own slice of the input, so a loss that SUMS the members' own losses gives each member exactly the
gradient it would get alone, and one element-wise optimiser (Adam, RMSProp) over the stacked
tensors takes the same steps as M separate ones. ``gancourse.training.grouped`` trains such groups;
``GroupedMLP.member(m)`` returns member m as a plain ``MLPGenerator``.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from gancourse.models.mlp import MLPDiscriminator, MLPGenerator

__all__ = ["GroupedMLP"]


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
