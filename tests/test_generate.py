"""generate(G, n): batched, no graph, eval mode for the pass and the caller's mode restored, seeded noise."""

from __future__ import annotations

import pytest
import torch

from gancourse.models import ConditionalDCGANGenerator, DCGANGenerator, MLPGenerator, generate, sample_noise

pytestmark = pytest.mark.usefixtures("one_thread")


def _g() -> DCGANGenerator:
    torch.manual_seed(0)
    return DCGANGenerator(8, 28, 1, width=8)


def test_batches_give_the_samples_one_pass_gives_and_no_graph():
    G = _g().eval()
    z = torch.randn(10, 8)
    with torch.no_grad():
        want = G(z)
    got = generate(G, z=z, batch_size=3)
    assert torch.equal(got, want) and not got.requires_grad and got.device.type == "cpu"


def test_eval_mode_for_the_pass_and_the_mode_restored():
    G = _g().train()
    z = torch.randn(4, 8)
    running = [m.running_mean.clone() for m in G.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    got = generate(G, z=z)
    assert G.training  # restored
    assert all(torch.equal(a, m.running_mean) for a, m in
               zip(running, [m for m in G.modules() if isinstance(m, torch.nn.BatchNorm2d)]))  # no BN update
    with torch.no_grad():
        assert torch.equal(got, G.eval()(z))  # batch norm read its running statistics


def test_seeded_noise_is_reproducible_and_leaves_the_global_rng_alone():
    G = MLPGenerator(3, 2, (8,), tanh=False)
    state = torch.get_rng_state()
    a, b = generate(G, 5, seed=1), generate(G, 5, seed=1)
    assert torch.equal(a, b) and torch.equal(state, torch.get_rng_state())
    with torch.no_grad():
        assert torch.equal(a, G.eval()(sample_noise(5, 3, generator=torch.Generator().manual_seed(1))))


def test_labels_reach_a_conditional_generator():
    torch.manual_seed(0)
    G = ConditionalDCGANGenerator(8, 10, 28, 1, width=8).eval()
    z, y = torch.randn(6, 8), torch.tensor([0, 1, 2, 3, 4, 5])
    with torch.no_grad():
        assert torch.equal(generate(G, z=z, labels=y, batch_size=4), G(z, y))


def test_bad_calls_say_what_to_pass():
    G = _g()
    with pytest.raises(ValueError, match="either n"):
        generate(G)
    with pytest.raises(ValueError, match="either n"):
        generate(G, 3, z=torch.randn(3, 8))
    with pytest.raises(ValueError, match="seed draws the noise"):
        generate(G, z=torch.randn(3, 8), seed=0)
    with pytest.raises(ValueError, match="one label per sample"):
        generate(G, z=torch.randn(3, 8), labels=torch.zeros(2, dtype=torch.long))
    with pytest.raises(ValueError, match="batch_size must be a positive int"):
        generate(G, 3, batch_size=0)
