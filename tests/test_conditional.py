"""Conditional models: one-hot labels, shapes at every size, where the label enters, projection D, the penalty."""

from __future__ import annotations

import inspect

import pytest
import torch
from torch import nn

from gancourse.losses import gradient_penalty
from gancourse.models import (
    ConditionalDCGANDiscriminator,
    ConditionalDCGANGenerator,
    ConditionalMLPDiscriminator,
    ConditionalMLPGenerator,
    ProjectionDiscriminator,
    one_hot,
)
from gancourse.models.conditional import combine_vectors, input_dims, label_channels

SIZES = (28, 32, 64)

pytestmark = pytest.mark.usefixtures("one_thread")


# --- the label as a vector --------------------------------------------------------------------

def test_one_hot_is_float_with_a_one_at_the_label():
    got = one_hot(torch.tensor([2, 0, 1]), 4)
    assert got.dtype == torch.float32
    assert torch.equal(got, torch.tensor([[0.0, 0, 1, 0], [1, 0, 0, 0], [0, 1, 0, 0]]))


@pytest.mark.parametrize("labels", [torch.tensor([0, 4]), torch.tensor([-1, 0]), torch.tensor([0.0, 1.0]),
                                    torch.tensor([[0, 1]])])
def test_one_hot_refuses_bad_labels(labels):
    with pytest.raises(ValueError):
        one_hot(labels, 4)


def test_combine_vectors_and_label_channels():
    z = torch.tensor([[0.5, -1.0]])
    y = torch.tensor([[0, 1, 0]])
    assert torch.equal(combine_vectors(z, y), torch.tensor([[0.5, -1.0, 0.0, 1.0, 0.0]]))
    planes = label_channels(one_hot(torch.tensor([1, 2]), 3), 4)
    assert planes.shape == (2, 3, 4, 4)
    assert torch.equal(planes[0, 1], torch.ones(4, 4)) and planes[0, [0, 2]].abs().sum() == 0
    assert torch.equal(planes[1, 2], torch.ones(4, 4)) and planes[1, :2].abs().sum() == 0
    assert input_dims(64, (1, 28, 28), 10) == (74, 11)


# --- shapes and input sizes -------------------------------------------------------------------

@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("channels", [1, 3])
def test_conv_shapes_and_input_sizes(size, channels):
    z_dim, k, n = 16, 10, 5
    y = torch.tensor([0, 3, 9, 1, 3])
    for G in (ConditionalDCGANGenerator(z_dim, k, size, channels, 8),
              ConditionalDCGANGenerator(z_dim, k, size, channels, 8, embedding_dim=6)):
        x = G(torch.randn(n, z_dim), y)
        assert x.shape == (n, channels, size, size)
        first = G.body.net[0]
        assert first.in_channels == G.input_dim == z_dim + (k if G.embedding is None else 6)
    assert ConditionalDCGANGenerator(z_dim, k, size, channels, 8).input_dim == input_dims(z_dim, (channels,), k)[0]
    D = ConditionalDCGANDiscriminator(k, size, channels, 8)
    assert D.body.net[0].in_channels == D.input_channels == input_dims(z_dim, (channels, size, size), k)[1]
    assert D(x, y).shape == (n,)
    for norm, sn in ((None, True), ("layer", False)):
        assert ProjectionDiscriminator(k, size, channels, 8, norm=norm, spectral_norm=sn)(x, y).shape == (n,)


def test_mlp_shapes_and_input_sizes():
    G = ConditionalMLPGenerator(8, 10, (1, 28, 28), hidden=(32,))
    D = ConditionalMLPDiscriminator((1, 28, 28), 10, hidden=(32,))
    y = torch.tensor([1, 2, 3])
    x = G(torch.randn(3, 8), y)
    assert x.shape == (3, 1, 28, 28) and D(x, y).shape == (3,)
    assert G.body.net[0].in_features == G.input_dim == 8 + 10
    assert D.body.net[0].in_features == D.input_dim == 28 * 28 + 10
    assert G.z_dim == 8 and G.n_classes == 10  # what the trainer reads: the noise alone, and the classes


# --- the label is used, in the way each model says --------------------------------------------

def test_integer_labels_and_one_hot_vectors_give_the_same_output():
    torch.manual_seed(0)
    y = torch.tensor([4, 0, 7])
    z = torch.randn(3, 16)
    for model, inp in ((ConditionalDCGANGenerator(16, 10, 28, 1, 8).eval(), z),
                       (ConditionalDCGANGenerator(16, 10, 28, 1, 8, embedding_dim=5).eval(), z),
                       (ConditionalMLPGenerator(16, 10, 4), z),
                       (ConditionalDCGANDiscriminator(10, 28, 1, 8).eval(), torch.randn(3, 1, 28, 28)),
                       (ProjectionDiscriminator(10, 28, 1, 8).eval(), torch.randn(3, 1, 28, 28)),
                       (ConditionalMLPDiscriminator(4, 10), torch.randn(3, 4))):
        assert torch.allclose(model(inp, y), model(inp, one_hot(y, 10)), atol=1e-6)


def test_the_label_changes_the_sample():
    torch.manual_seed(0)
    G = ConditionalDCGANGenerator(16, 10, 28, 1, 8).eval()
    z = torch.randn(1, 16).expand(10, -1)
    images = G(z, torch.arange(10))
    # the same z, ten labels: ten different images
    assert torch.cdist(images.flatten(1), images.flatten(1)).fill_diagonal_(1.0).min() > 1e-4


def test_one_hot_generator_input_is_z_then_the_one_hot_vector():
    G = ConditionalDCGANGenerator(3, 4, 28, 1, 8)
    seen = []
    G.body.register_forward_pre_hook(lambda m, args: seen.append(args[0]))
    z = torch.tensor([[0.1, 0.2, 0.3]])
    G.eval()(z, torch.tensor([2]))
    assert torch.allclose(seen[0], torch.tensor([[0.1, 0.2, 0.3, 0.0, 0.0, 1.0, 0.0]]))


def test_embedding_generator_reads_one_column_per_label():
    G = ConditionalDCGANGenerator(3, 4, 28, 1, 8, embedding_dim=2).eval()
    seen = []
    G.body.register_forward_pre_hook(lambda m, args: seen.append(args[0]))
    G(torch.zeros(2, 3), torch.tensor([1, 3]))
    assert torch.allclose(seen[0][:, 3:], G.embedding.weight[:, [1, 3]].T)  # nn.Embedding's lookup


def test_discriminator_sees_the_label_as_constant_planes():
    D = ConditionalDCGANDiscriminator(3, 28, 1, 8).eval()
    seen = []
    D.body.register_forward_pre_hook(lambda m, args: seen.append(args[0]))
    x = torch.randn(2, 1, 28, 28)
    D(x, torch.tensor([2, 0]))
    stacked = seen[0]
    assert stacked.shape == (2, 4, 28, 28)
    assert torch.equal(stacked[:, :1], x)
    assert torch.equal(stacked[0, 1:], torch.stack([torch.zeros(28, 28), torch.zeros(28, 28), torch.ones(28, 28)]))
    assert torch.equal(stacked[1, 1:], torch.stack([torch.ones(28, 28), torch.zeros(28, 28), torch.zeros(28, 28)]))


def test_projection_difference_between_classes_is_the_inner_product():
    # D(x, y) - D(x, y') = <e_y - e_y', phi(x)>: psi(phi(x)) cancels (Miyato & Koyama, 2018, eq. 3).
    torch.manual_seed(0)
    D = ProjectionDiscriminator(5, 32, 3, 8, spectral_norm=False).eval()
    x = torch.randn(4, 3, 32, 32)
    y, y2 = torch.tensor([0, 1, 2, 3]), torch.tensor([4, 4, 0, 1])
    phi = D.phi(x).sum(dim=(2, 3))
    e = D.embed.weight.T  # (classes, features): row c is e_c
    assert phi.shape == (4, D.features)
    want = ((e[y] - e[y2]) * phi).sum(1)
    assert torch.allclose(D(x, y) - D(x, y2), want, atol=1e-5)
    # and with zero label vector only the unconditional term is left
    assert torch.allclose(D(x, torch.zeros(4, 5)), D.psi(phi).squeeze(1), atol=1e-6)


def test_projection_with_spectral_norm_normalises_embedding_and_psi():
    D = ProjectionDiscriminator(5, 28, 1, 8)
    names = [n for n, _ in D.named_parameters()]
    assert any(n.startswith("embed.parametrizations") for n in names)
    assert any(n.startswith("psi.parametrizations") for n in names)


# --- the penalty with labels ------------------------------------------------------------------

def test_gradient_penalty_passes_labels_to_a_conditional_critic():
    # A linear conditional critic f(x, y) = <w_x, x> + <w_y, one_hot(y)> + b: its gradient in x is w_x
    # whatever y, so the penalty is (|w_x| - 1)^2.
    D = ConditionalMLPDiscriminator(4, 3, hidden=())
    linear = D.body.net[0]
    with torch.no_grad():
        linear.weight.copy_(torch.tensor([[1.0, 2.0, 2.0, 4.0, 7.0, -3.0, 0.5]]))
    real, fake = torch.randn(6, 4), torch.randn(6, 4)
    y = torch.tensor([0, 1, 2, 0, 1, 2])
    assert torch.allclose(gradient_penalty(D, real, fake, y), torch.tensor(16.0))  # |(1, 2, 2, 4)| = 5


# --- bad input --------------------------------------------------------------------------------

def test_clear_errors():
    G = ConditionalDCGANGenerator(8, 10, 28, 1, 8)
    with pytest.raises(ValueError, match="one label per sample"):
        G(torch.randn(3, 8), torch.tensor([1, 2]))
    with pytest.raises(ValueError, match="label vectors"):
        G(torch.randn(2, 8), torch.rand(2, 9))
    with pytest.raises(ValueError, match="noise of shape"):
        G(torch.randn(2, 9), torch.tensor([1, 2]))
    with pytest.raises(ValueError, match="n_classes"):
        ConditionalDCGANDiscriminator(1)
    with pytest.raises(ValueError, match="images of shape"):
        ConditionalDCGANDiscriminator(10, 28)(torch.randn(2, 1, 32, 32), torch.tensor([1, 2]))
    with pytest.raises(ValueError, match="image_size"):
        ConditionalDCGANGenerator(8, 10, 30)
    with pytest.raises(TypeError):
        ProjectionDiscriminator(10, 28)(torch.randn(2, 1, 28, 28), [1, 2])


# --- the trainer ------------------------------------------------------------------------------

def _trainer_passes_labels() -> bool:
    from gancourse.training import RealBatches

    return "labels" in inspect.signature(RealBatches).parameters


@pytest.mark.skipif(not _trainer_passes_labels(), reason="train_gan does not pass labels yet (chapter-5 change)")
def test_train_gan_trains_a_conditional_pair_with_the_penalty():
    from torch.utils.data import TensorDataset

    from gancourse.training import TrainConfig, train_gan

    torch.manual_seed(0)
    data = TensorDataset(torch.rand(64, 1, 28, 28) * 2 - 1, torch.arange(64) % 10)
    G = ConditionalDCGANGenerator(8, 10, 28, 1, 4)
    D = ConditionalDCGANDiscriminator(10, 28, 1, 4, norm="layer")
    before = [p.detach().clone() for p in (*G.parameters(), *D.parameters())]
    history = train_gan(G, D, data, TrainConfig(steps=3, batch_size=16, loss="wasserstein", gp_weight=10.0),
                        progress=False)
    assert len(history) == 3 and all(gp > 0 for gp in history.gp)
    after = list((*G.parameters(), *D.parameters()))
    assert all(not torch.equal(a, b) for a, b in zip(before, after) if a.numel() > 1)
    with pytest.raises(TypeError, match="labelled data"):
        train_gan(G, D, torch.rand(64, 1, 28, 28), TrainConfig(steps=1, batch_size=16), progress=False)
