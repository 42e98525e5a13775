"""Chapter 3's exercise checks grade both ways: solutions pass, stubs and classic mistakes fail."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from gancourse.exercises._check import ExerciseError
from gancourse.exercises.ch03 import check_dcgan_init, check_discriminator_block, check_generator_block
from gancourse.models import init_dcgan_weights_


pytestmark = pytest.mark.usefixtures("one_thread")


def _stub(*args, **kwargs):
    raise NotImplementedError()


class _Custom(nn.Module):
    """A block written as a module with its own forward, layers registered out of call order."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.act = nn.ReLU()
        self.bn = nn.BatchNorm2d(c_out)
        self.up = nn.ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.bn(self.up(x)))


# --- generator_block --------------------------------------------------------------------------

def generator_block(c_in, c_out):
    return nn.Sequential(nn.ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(True))


def _g(conv=None, *, bn=True, act=None, order=("conv", "bn", "act")):
    """Return a generator block with one thing changed."""

    def fn(c_in, c_out):
        parts = {"conv": (conv or (lambda i, o: nn.ConvTranspose2d(i, o, 4, 2, 1, bias=False)))(c_in, c_out),
                 "bn": nn.BatchNorm2d(c_out if order.index("bn") > order.index("conv") else c_in),
                 "act": act() if act else nn.ReLU()}
        return nn.Sequential(*[parts[k] for k in order if k != "bn" or bn])

    return fn


G_MISTAKES = {
    "stub": _stub,
    "stride 1": _g(lambda i, o: nn.ConvTranspose2d(i, o, 4, 1, 1, bias=False)),
    "kernel 3, stride 2, padding 1 (odd side)": _g(lambda i, o: nn.ConvTranspose2d(i, o, 3, 2, 1, bias=False)),
    "padding 0": _g(lambda i, o: nn.ConvTranspose2d(i, o, 4, 2, 0, bias=False)),
    "Conv2d instead of ConvTranspose2d": _g(lambda i, o: nn.Conv2d(i, o, 4, 2, 1, bias=False)),
    "Upsample then Conv2d": lambda i, o: nn.Sequential(nn.Upsample(scale_factor=2),
                                                       nn.Conv2d(i, o, 3, 1, 1, bias=False),
                                                       nn.BatchNorm2d(o), nn.ReLU()),
    "bias before batch norm": _g(lambda i, o: nn.ConvTranspose2d(i, o, 4, 2, 1)),
    "no batch norm": _g(bn=False),
    "batch norm before the convolution": _g(order=("bn", "conv", "act")),
    "ReLU before batch norm": _g(order=("conv", "act", "bn")),
    "LeakyReLU in G": _g(act=lambda: nn.LeakyReLU(0.2)),
    "tanh instead of ReLU": _g(act=nn.Tanh),
    "instance norm": lambda i, o: nn.Sequential(nn.ConvTranspose2d(i, o, 4, 2, 1, bias=False),
                                                nn.InstanceNorm2d(o), nn.ReLU()),
    "swapped channel arguments": lambda i, o: generator_block(o, i),
    "returns the layers in a list": lambda i, o: list(generator_block(i, o)),
    "returns nothing": lambda i, o: None,
}


def test_generator_block_solution_passes(capsys):
    check_generator_block(generator_block)
    assert "generator_block: all checks passed" in capsys.readouterr().out


def test_generator_block_as_a_custom_module_passes():
    check_generator_block(_Custom)


@pytest.mark.parametrize("name", G_MISTAKES)
def test_generator_block_mistakes_fail(name):
    with pytest.raises(ExerciseError):
        check_generator_block(G_MISTAKES[name])


def test_generator_block_messages_name_the_mistake():
    with pytest.raises(ExerciseError, match="ReLU in the generator"):
        check_generator_block(G_MISTAKES["LeakyReLU in G"])
    with pytest.raises(ExerciseError, match="bias=False"):
        check_generator_block(G_MISTAKES["bias before batch norm"])
    with pytest.raises(ExerciseError, match="double the side"):
        check_generator_block(G_MISTAKES["stride 1"])
    with pytest.raises(ExerciseError, match="ConvTranspose2d -> BatchNorm2d -> ReLU"):
        check_generator_block(G_MISTAKES["batch norm before the convolution"])


# --- discriminator_block ----------------------------------------------------------------------

def discriminator_block(c_in, c_out, batch_norm=True):
    if not batch_norm:
        return nn.Sequential(nn.Conv2d(c_in, c_out, 4, 2, 1), nn.LeakyReLU(0.2, inplace=True))
    return nn.Sequential(nn.Conv2d(c_in, c_out, 4, 2, 1, bias=False), nn.BatchNorm2d(c_out), nn.LeakyReLU(0.2))


def _d(conv=None, *, act=None, bn_always=False, bn_never=False, bn_last=False, pool=False):
    """Return a discriminator block with one thing changed."""

    def fn(c_in, c_out, batch_norm=True):
        use_bn = (batch_norm or bn_always) and not bn_never
        default_conv = (lambda i, o: nn.Conv2d(i, o, 4, 2, 1, bias=not use_bn))
        layers = [(conv or default_conv)(c_in, c_out)]
        if pool:
            layers.append(nn.MaxPool2d(2))
        norm = [nn.BatchNorm2d(c_out)] if use_bn else []
        activation = act() if act else nn.LeakyReLU(0.2)
        layers += [activation, *norm] if bn_last else [*norm, activation]
        return nn.Sequential(*layers)

    return fn


D_MISTAKES = {
    "stub": _stub,
    "ReLU in D": _d(act=nn.ReLU),
    "LeakyReLU with the default slope 0.01": _d(act=nn.LeakyReLU),
    "stride 1": _d(lambda i, o: nn.Conv2d(i, o, 4, 1, 1)),
    "kernel 3, padding 0": _d(lambda i, o: nn.Conv2d(i, o, 3, 2, 0)),
    "pooling instead of a stride": _d(lambda i, o: nn.Conv2d(i, o, 3, 1, 1), pool=True),
    "ConvTranspose2d": _d(lambda i, o: nn.ConvTranspose2d(i, o, 4, 2, 1)),
    "batch norm on the input layer too": _d(bn_always=True),
    "no batch norm at all": _d(bn_never=True),
    "batch norm after the activation": _d(bn_last=True),
    "bias before batch norm": _d(lambda i, o: nn.Conv2d(i, o, 4, 2, 1, bias=True)),
    "ignores batch_norm=False": lambda i, o, batch_norm=True: discriminator_block(i, o, True),
    "returns nothing": lambda i, o, batch_norm=True: None,
}


def test_discriminator_block_solution_passes(capsys):
    check_discriminator_block(discriminator_block)
    assert "discriminator_block: all checks passed" in capsys.readouterr().out


@pytest.mark.parametrize("name", D_MISTAKES)
def test_discriminator_block_mistakes_fail(name):
    with pytest.raises(ExerciseError):
        check_discriminator_block(D_MISTAKES[name])


def test_discriminator_block_messages_name_the_mistake():
    with pytest.raises(ExerciseError, match="LeakyReLU"):
        check_discriminator_block(D_MISTAKES["ReLU in D"])
    with pytest.raises(ExerciseError, match="slope must be 0.2"):
        check_discriminator_block(D_MISTAKES["LeakyReLU with the default slope 0.01"])
    with pytest.raises(ExerciseError, match="pooling"):
        check_discriminator_block(D_MISTAKES["pooling instead of a stride"])
    with pytest.raises(ExerciseError, match="input layer"):
        check_discriminator_block(D_MISTAKES["batch norm on the input layer too"])


# --- init_dcgan_weights -----------------------------------------------------------------------

def init_solution(model):
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


def pytorch_example_init(m):
    """PyTorch's examples/dcgan weights_init, applied module by module."""
    classname = m.__class__.__name__
    if classname.find("Conv") != -1:
        nn.init.normal_(m.weight, 0.0, 0.02)
        if m.bias is not None:
            nn.init.zeros_(m.bias)
    elif classname.find("BatchNorm") != -1:
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.zeros_(m.bias)


def _init(*, conv_std=0.02, conv_mean=0.0, kinds=(nn.Conv2d, nn.ConvTranspose2d), bn=(1.0, 0.02), zero_bias=True,
          uniform=False):
    """Return an initialiser with one thing changed."""

    def fn(model):
        for m in model.modules():
            if isinstance(m, kinds):
                if uniform:  # the right std, the wrong distribution
                    a = conv_std * 3**0.5
                    nn.init.uniform_(m.weight, -a, a)
                else:
                    nn.init.normal_(m.weight, conv_mean, conv_std)
                if zero_bias and m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm2d) and bn is not None:
                nn.init.normal_(m.weight, *bn)
                if zero_bias:
                    nn.init.zeros_(m.bias)

    return fn


INIT_MISTAKES = {
    "stub": _stub,
    "std 0.2": _init(conv_std=0.2),
    "std 0.002": _init(conv_std=0.002),
    "normal_(w, 0.02): mean 0.02, std 1": lambda model: [nn.init.normal_(m.weight, 0.02) for m in model.modules()
                                                         if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))],
    "Conv2d only": _init(kinds=(nn.Conv2d,)),
    "ConvTranspose2d only": _init(kinds=(nn.ConvTranspose2d,)),
    "uniform with std 0.02": _init(uniform=True),
    "batch-norm scales around 0": _init(bn=(0.0, 0.02)),
    "batch-norm scales left alone": _init(bn=None),
    "batch-norm scales all 1": lambda model: (_init(bn=None)(model), [nn.init.ones_(m.weight) for m in model.modules()
                                                                      if isinstance(m, nn.BatchNorm2d)]),
    "biases left alone": _init(zero_bias=False),
    "works on a copy": lambda model: init_solution(__import__("copy").deepcopy(model)),
}


def test_init_solution_passes(capsys):
    check_dcgan_init(init_solution)
    assert "init_dcgan_weights: all checks passed" in capsys.readouterr().out


def test_init_as_in_the_pytorch_example_and_the_package_pass():
    check_dcgan_init(lambda model: model.apply(pytorch_example_init))
    check_dcgan_init.__wrapped__(init_dcgan_weights_)  # the check agrees with the package


@pytest.mark.parametrize("name", INIT_MISTAKES)
def test_init_mistakes_fail(name):
    with pytest.raises(ExerciseError):
        check_dcgan_init(INIT_MISTAKES[name])


def test_init_messages_name_the_mistake():
    with pytest.raises(ExerciseError, match="ten times"):
        check_dcgan_init(INIT_MISTAKES["std 0.2"])
    with pytest.raises(ExerciseError, match="sets the MEAN"):
        check_dcgan_init(INIT_MISTAKES["normal_(w, 0.02): mean 0.02, std 1"])
    with pytest.raises(ExerciseError, match="ConvTranspose2d"):
        check_dcgan_init(INIT_MISTAKES["Conv2d only"])
