"""The shipped toy generators load without pickle, have their documented architecture and measure what they record.

Also the grouped training used to build them: M networks stacked into one batched model must
compute exactly what the M networks compute alone, forward and backward.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
import math
import shutil

import pytest
import torch
from torch import nn

import gancourse.pretrained as pretrained
from gancourse.data.toy import grid, ring
from gancourse.models import MLPDiscriminator, MLPGenerator
from gancourse.data.toy import toy_dataset
from gancourse.losses import LOSS_KINDS
from gancourse.metrics import evaluate_toy_generator
from gancourse.models import GroupedMLP
from gancourse.pretrained import (
    DATASETS,
    METHODS,
    list_toy_models,
    load_shipped,
    load_toy_generator,
    shipped_card,
    toy_model_info,
)
from gancourse.pretrained import toy as toy_models
from gancourse.pretrained.toy import SEEDS
from gancourse.training import RECIPES, ToyRecipe, train_grouped
from gancourse.training.grouped import FAIR_STEPS

SHIPPED = [pytest.param(d, m, s, id=f"{d}-{m}-s{s}") for d in DATASETS for m in METHODS for s in SEEDS]


# --- the fair protocol ----------------------------------------------------------------------------

def test_every_method_shares_the_fair_protocol():
    # The same steps, batches, schedule, EMA and networks for all five; only each paper's own settings differ.
    shared = ("steps", "batch_size", "g_batch_size", "decay_from", "ema_decay", "z_dim", "g_hidden",
              "g_batch_norm", "d_hidden", "d_norm")
    for key in shared:
        assert len({getattr(r, key) for r in RECIPES.values()}) == 1, key
    assert set(RECIPES) == set(METHODS) and all(r.steps == FAIR_STEPS for r in RECIPES.values())
    # Each paper's published settings, untuned.
    assert (RECIPES["wgan"].optimizer, RECIPES["wgan"].lr_d, RECIPES["wgan"].clip_value,
            RECIPES["wgan"].n_critic) == ("rmsprop", 5e-5, 0.01, 5)
    gp = RECIPES["wgan-gp"]
    assert (gp.gp_weight, gp.lr_d, gp.lr_g, gp.betas, gp.n_critic) == (10.0, 1e-4, 1e-4, (0.0, 0.9), 5)
    assert RECIPES["sn-hinge"].spectral_norm and RECIPES["sn-hinge"].loss == "hinge"


# --- what ships ---------------------------------------------------------------------------------

def test_every_method_ships_for_both_data_sets_and_three_seeds_and_the_files_are_small():
    models = list_toy_models()
    assert [(e.dataset, e.method, e.seed) for e in models] == [
        (d, m, s) for d in DATASETS for m in METHODS for s in SEEDS]
    assert len({e.name for e in models}) == 30 and SEEDS == (0, 1, 2)
    total = sum(e.path.stat().st_size for e in models)
    assert total < 1_400 * 1024, f"the shipped models take {total / 1024:.0f} KiB"
    assert all(shipped_card(e.name)["info"]["rebuild"].startswith("python scripts/train_toy_models.py")
               for e in models)


@pytest.mark.parametrize(("dataset", "method", "seed"), SHIPPED)
def test_shipped_model_has_its_documented_architecture(dataset, method, seed):
    info = toy_model_info(dataset, method, seed)
    assert info.name == f"toy_{dataset}_{method}_s{seed}" and info.seed == seed
    assert hashlib.sha256(info.path.read_bytes()).hexdigest() == shipped_card(info.name)["sha256"]
    G = load_toy_generator(dataset, method, seed)
    arch = info.architecture
    assert isinstance(G, MLPGenerator) and not G.training
    assert not any(p.requires_grad for p in G.parameters())
    widths = [arch["z_dim"], *arch["hidden"], 2]
    shapes = [(m.in_features, m.out_features) for m in G.modules() if isinstance(m, nn.Linear)]
    assert shapes == list(zip(widths[:-1], widths[1:]))
    n_bn = sum(isinstance(m, nn.BatchNorm1d) for m in G.modules())
    assert n_bn == (len(arch["hidden"]) if arch["batch_norm"] else 0)
    assert not any(isinstance(m, nn.Tanh) for m in G.modules())  # 2-D points: a linear output
    # The recipe recorded is the one the package holds.
    assert info.config == RECIPES[method].to_dict() and info.steps == RECIPES[method].steps


@pytest.mark.parametrize(("dataset", "method", "seed"), SHIPPED)
def test_shipped_model_reaches_its_recorded_coverage(dataset, method, seed):
    info = toy_model_info(dataset, method, seed)
    G = load_toy_generator(dataset, method, seed)
    measured = evaluate_toy_generator(G, dataset, n=info.n_eval, seed=info.eval_seed)
    assert measured.modes_covered == info.modes_covered
    assert measured.high_quality_fraction == pytest.approx(info.high_quality_fraction, abs=1 / info.n_eval)


def test_seeds_give_different_generators():
    z = torch.randn(64, 2, generator=torch.Generator().manual_seed(0))
    outs = [load_toy_generator("ring", "nsgan", s)(z) for s in SEEDS]
    assert not torch.allclose(outs[0], outs[1]) and not torch.allclose(outs[1], outs[2])


def test_the_wgan_gp_sweep_holds_valid_measurements():
    variants = pretrained.wgan_gp_sweep()
    settings = [(v["gp_weight"], v["lr_d"], v["lr_g"]) for v in variants]
    assert len(set(settings)) == len(settings) == 8
    for v in variants:
        for dataset in DATASETS:
            n_modes = toy_dataset(dataset).n_modes
            assert 0 <= v[dataset]["modes_covered"] <= n_modes and 0 <= v[dataset]["high_quality_fraction"] <= 1


def test_a_missing_sweep_says_how_to_rebuild_it(tmp_path, monkeypatch):
    monkeypatch.setattr(toy_models, "HERE", tmp_path)
    with pytest.raises(FileNotFoundError, match="sweep_wgan_gp.py"):
        pretrained.wgan_gp_sweep()


def test_loading_never_unpickles(no_unpickling):
    assert isinstance(load_toy_generator("ring", "wgan-gp", 1), MLPGenerator)


def test_a_damaged_file_is_refused(tmp_path):
    name = toy_model_info("ring", "gan").name
    for suffix in (".json", ".safetensors"):
        shutil.copy(pretrained.HERE / f"{name}{suffix}", tmp_path / f"{name}{suffix}")
    data = bytearray((tmp_path / f"{name}.safetensors").read_bytes())
    data[-1] ^= 0xFF  # flip the bits of one byte of a weight
    (tmp_path / f"{name}.safetensors").write_bytes(bytes(data))
    with pytest.raises(ValueError, match="SHA-256"):
        load_shipped(name, tmp_path)


@pytest.mark.parametrize(("dataset", "method", "seed"), [("square", "gan", 0), ("ring", "wgan_gp", 0),
                                                     ("ring", "WGAN-GP", 0), ("ring", "gan", 3),
                                                     ("ring", "gan", 1.0)])
def test_unknown_names_are_refused(dataset, method, seed):
    with pytest.raises(ValueError, match="must be one of"):
        load_toy_generator(dataset, method, seed)


# --- the evaluation helper ----------------------------------------------------------------------

class _Constant(nn.Module):
    """A 'generator' that returns fixed points, cycling through them."""

    def __init__(self, points: torch.Tensor) -> None:
        super().__init__()
        self.z_dim = 2
        self.points = points
        self.dummy = nn.Parameter(torch.zeros(()))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        idx = torch.arange(z.shape[0]) % len(self.points)
        return self.points[idx] + 0 * self.dummy


def test_evaluate_toy_generator_closed_forms():
    # Samples exactly on the 8 centres: every mode covered, all high quality.
    assert evaluate_toy_generator(_Constant(ring().centres), "ring", n=800) == (8, 1.0)
    # All at the origin: 2 away from every ring mode (> 3 sigma = 0.06): nothing.
    assert evaluate_toy_generator(_Constant(torch.zeros(1, 2)), "ring", n=800) == (0, 0.0)
    # Half on 5 grid centres, half 1 away from every centre (> 3 sigma = 0.15): 5 modes, 50 %.
    pts = torch.cat([grid().centres[:5], torch.full((5, 2), 1.0)])
    assert evaluate_toy_generator(_Constant(pts), "grid", n=1_000) == (5, 0.5)


# --- grouped training -----------------------------------------------------------------------------

def _randomise(module: nn.Module, seed: int) -> nn.Module:
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.5)
    return module


@pytest.mark.parametrize("kind", ["generator", "generator+bn", "critic", "critic+layernorm"])
def test_grouped_mlp_equals_its_members_forward_and_backward(kind):
    if kind.startswith("generator"):
        members = [_randomise(MLPGenerator(3, 2, (8, 6), tanh=False, batch_norm=kind.endswith("bn")), s)
                   for s in range(3)]
        x = torch.randn(3, 7, 3)
    else:
        members = [_randomise(MLPDiscriminator(2, (8, 6), norm="layer" if "layer" in kind else None), s)
                   for s in range(3)]
        x = torch.randn(3, 7, 2)
    group = GroupedMLP(members)
    out = group(x)
    alone = torch.stack([m(x[i]).reshape(7, -1) for i, m in enumerate(members)])
    torch.testing.assert_close(out, alone, rtol=1e-5, atol=1e-5)
    # Backward: the gradient of the SUM of the members' losses, sliced, is each member's own gradient.
    (out**2).mean(dim=(1, 2)).sum().backward()
    for i, m in enumerate(members):
        (alone[i] ** 2).mean().backward(retain_graph=True)
    first = [p for p in members[1].parameters()][0]  # member 1's first Linear weight, (out, in)
    torch.testing.assert_close(group.weights[0].grad[1], first.grad.T, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("spectral_norm", [False, True])
def test_grouped_input_gradient_is_autograds_and_so_is_its_penalty_gradient(spectral_norm):
    # The explicit chain W_1^T S_1 ... w_L against autograd's create_graph=True, in float64: the input
    # gradient itself, and the gradient of the WGAN-GP penalty with respect to every parameter.
    members = [_randomise(MLPDiscriminator(2, (9, 7, 5)), s).double() for s in range(3)]
    group = GroupedMLP(members, spectral_norm=spectral_norm).double().eval()  # eval: no power iteration
    x = torch.randn(3, 11, 2, dtype=torch.float64)
    x_ref = x.clone().requires_grad_(True)
    (want,) = torch.autograd.grad(group(x_ref).sum(), x_ref, create_graph=True)
    got = group.input_gradient(x)
    torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12)
    params = [p for p in group.parameters()]

    def penalty_grads(g):
        return torch.autograd.grad(((g.norm(dim=2) - 1) ** 2).sum(), params, allow_unused=True,
                                   materialize_grads=True)

    for a, b in zip(penalty_grads(got), penalty_grads(want)):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)
    # The leak matters: a member's gradient is the one of its own network (slope 0.2 where inactive).
    x0 = x[1].clone().requires_grad_(True)
    (alone,) = torch.autograd.grad(members[1](x0).sum(), x0)
    if not spectral_norm:
        torch.testing.assert_close(got[1], alone, rtol=1e-12, atol=1e-12)


def test_grouped_input_gradient_refuses_what_it_does_not_cover():
    with pytest.raises(ValueError, match="layer norm"):
        GroupedMLP([MLPDiscriminator(2, (4,), norm="layer")]).input_gradient(torch.randn(1, 3, 2))
    with pytest.raises(ValueError, match="layer norm"):
        GroupedMLP([MLPGenerator(2, 2, (4,), tanh=False)]).input_gradient(torch.randn(1, 3, 2))
    with pytest.raises(ValueError, match="expects input of shape"):
        GroupedMLP([MLPDiscriminator(2, (4,))]).input_gradient(torch.randn(3, 2))


@pytest.mark.parametrize("bad", [dict(g_batch_size=1), dict(g_batch_size=0), dict(g_batch_size=2.0),
                                 dict(batch_size=None), dict(batch_size=True)])
def test_recipe_batch_sizes_are_checked(bad):
    with pytest.raises(ValueError, match="batch_size must be an int >= 2"):
        ToyRecipe(loss="hinge", lr_d=1e-3, lr_g=1e-3, **bad)
    assert ToyRecipe(loss="hinge", lr_d=1e-3, lr_g=1e-3, g_batch_size=None).g_batch_size is None


def test_grouped_generator_exports_its_members():
    members = [_randomise(MLPGenerator(2, 2, (8,), tanh=False, batch_norm=True), s) for s in range(2)]
    group = GroupedMLP(members)
    group(torch.randn(2, 16, 2))  # one training step's batch statistics
    for m in members:
        m(torch.randn(16, 2))
    group.eval()
    z = torch.randn(5, 2)
    exported = group.member(1)
    assert isinstance(exported, MLPGenerator) and not exported.training
    torch.testing.assert_close(exported(z), group(torch.stack([z, z]))[1])


def test_grouped_spectral_norm_bounds_every_member():
    torch.manual_seed(0)  # the power iteration's starting vectors; it converges at rate sigma_2 / sigma_1
    members = [_randomise(MLPDiscriminator(2, (16, 16)), s) for s in range(4)]
    group = GroupedMLP(members, spectral_norm=True)
    for _ in range(300):
        group(torch.randn(4, 8, 2))
    group.eval()
    for i in range(len(group.weights)):
        sigma = torch.linalg.matrix_norm(group._weight(i).detach(), ord=2)  # one per member
        torch.testing.assert_close(sigma, torch.ones(4), rtol=1e-3, atol=1e-3)


def test_grouped_mlp_rejects_mixed_members():
    with pytest.raises(ValueError):
        GroupedMLP([MLPGenerator(2, 2, (8,), tanh=False), MLPGenerator(2, 2, (9,), tanh=False)])
    with pytest.raises(TypeError):
        GroupedMLP([MLPGenerator(2, 2, (8,), tanh=False), MLPDiscriminator(2, (8,))])
    with pytest.raises(ValueError):
        GroupedMLP([MLPDiscriminator(2, (8,), norm="batch")])


def test_train_grouped_runs_each_recipe_briefly_and_clips():
    toys = [ring(), grid()]
    for method, recipe in RECIPES.items():
        run = train_grouped(recipe, toys, [0, 0], steps=3)
        assert run.generator.members == 2 and len(run.generators()) == 2
        assert all(torch.isfinite(g(torch.randn(4, recipe.z_dim))).all() for g in run.generators())
    # WGAN's clipping bounds every critic parameter (a large learning rate pushes them past c first).
    clipped = ToyRecipe(loss="wasserstein", optimizer="rmsprop", lr_d=0.1, lr_g=0.1, n_critic=2, clip_value=0.01,
                        steps=2)
    run = train_grouped(clipped, [ring()], [0])
    params = torch.cat([p.detach().flatten() for p in run.critic.parameters()])
    assert params.abs().max() <= 0.01 and (params.abs() == 0.01).float().mean() > 0.5
    assert math.isfinite(run.seconds)


def _grouped_by_hand(recipe: ToyRecipe, datasets, seeds, steps: int) -> GroupedMLP:
    """The grouped toy GAN written out step by step: the reference GroupedSteps in the loop must equal.

    Constant learning rate or a linear fall (``decay_from``), the penalty, clipping; no EMA.
    """
    M, B, z_dim = len(datasets), recipe.batch_size, recipe.z_dim
    with torch.random.fork_rng():
        members_g, members_d = [], []
        for seed in seeds:
            torch.manual_seed(seed)
            members_g.append(MLPGenerator(z_dim, 2, recipe.g_hidden, tanh=False, batch_norm=recipe.g_batch_norm))
            members_d.append(MLPDiscriminator(2, recipe.d_hidden, norm=recipe.d_norm))
        G, D = GroupedMLP(members_g), GroupedMLP(members_d, spectral_norm=recipe.spectral_norm)
        make = ((lambda m, lr: torch.optim.RMSprop(m.parameters(), lr=lr)) if recipe.optimizer == "rmsprop"
                else (lambda m, lr: torch.optim.Adam(m.parameters(), lr=lr, betas=recipe.betas)))
        opt_d, opt_g = make(D, recipe.lr_d), make(G, recipe.lr_g)
        d_loss, g_loss = LOSS_KINDS[recipe.loss]
        torch.manual_seed(seeds[0] + 10_007)
        for step in range(1, steps + 1):
            start = recipe.decay_from * steps
            factor = 1.0 if step <= start or recipe.decay_from >= 1 else (steps - step + 1) / (steps - start)
            for opt, lr in ((opt_d, recipe.lr_d), (opt_g, recipe.lr_g)):
                for group in opt.param_groups:
                    group["lr"] = lr * factor
            for _ in range(recipe.n_critic):
                real = torch.stack([toy.sample(B) for toy in datasets])
                with torch.no_grad():
                    fake = G(torch.randn(M, B, z_dim))
                loss = M * d_loss(D(real)[..., 0], D(fake)[..., 0])
                if recipe.gp_weight > 0:
                    alpha = torch.rand(M, B, 1)
                    grad = D.input_gradient(alpha * real + (1 - alpha) * fake)
                    loss = loss + recipe.gp_weight * ((grad.norm(dim=2) - 1) ** 2).mean(dim=1).sum()
                opt_d.zero_grad()
                loss.backward()
                opt_d.step()
                if recipe.clip_value is not None:
                    with torch.no_grad():
                        for p in D.parameters():
                            p.clamp_(-recipe.clip_value, recipe.clip_value)
            D.requires_grad_(False)
            loss = M * g_loss(D(G(torch.randn(M, recipe.g_batch_size or B, z_dim)))[..., 0])
            opt_g.zero_grad()
            loss.backward()
            opt_g.step()
            D.requires_grad_(True)
    return G


@pytest.mark.parametrize("method", ["wgan-gp", "wgan", "sn-hinge"])
def test_grouped_training_through_the_loop_equals_the_recipe_written_by_hand(method):
    recipe = replace(RECIPES[method], batch_size=32, g_batch_size=48 if method == "wgan-gp" else None,
                     ema_decay=None, decay_from=0.5)
    toys, seeds = [ring(), grid()], [3, 4]
    want = _grouped_by_hand(recipe, toys, seeds, steps=6)
    run = train_grouped(recipe, toys, seeds, steps=6)
    for (name, a), (_, b) in zip(want.state_dict().items(), run.generator.state_dict().items()):
        assert torch.equal(a, b), name
    assert len(run.history) == 6 and len(run.w_estimate) == 6 and len(run.w_estimate[0]) == 2
