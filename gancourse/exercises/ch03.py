"""Checks for the exercises of Chapter 3 (DCGAN): two building blocks and the weight initialisation.

The blocks are checked structurally: a tensor goes in, and the check looks at the output's shape,
the layers the tensor passed through (recorded in call order with forward hooks, so any way of
writing the block works) and their settings. The initialisation is checked statistically on layers
with hundreds of thousands of weights, where the sample mean and standard deviation lie within a
few standard errors (about 2e-5) of their targets for any seed; the tolerances are far wider.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import torch
from torch import nn

from gancourse.exercises._check import ExerciseError, call_student, expect, passed, refuses

__all__ = ["check_generator_block", "check_discriminator_block", "check_dcgan_init", "check_judge_confidence"]

_NORMS = (nn.BatchNorm2d, nn.InstanceNorm2d, nn.GroupNorm, nn.LayerNorm)
_ACTIVATIONS = (nn.ReLU, nn.LeakyReLU, nn.Tanh, nn.Sigmoid, nn.ELU, nn.GELU, nn.SiLU)
_POOLS = (nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d, nn.Upsample)


def _build(fn: Callable[..., Any], name: str, *args: Any, **kwargs: Any) -> nn.Module:
    """Return the student's block, or raise ExerciseError if it is not an nn.Module."""
    block = call_student(fn, *args, **kwargs)
    expect(block is not None, f"{name} returned None: did you forget `return nn.Sequential(...)`?")
    expect(isinstance(block, nn.Module),
           f"{name} must return an nn.Module (e.g. nn.Sequential of the layers), got {type(block).__name__}")
    return block


def _run(block: nn.Module, x: torch.Tensor, name: str) -> tuple[torch.Tensor, list[nn.Module]]:
    """Return the block's output on ``x`` and the layers (modules without children) it called, in order."""
    called: list[nn.Module] = []
    leaves = [m for m in block.modules() if not list(m.children())]
    handles = [m.register_forward_hook(lambda m, i, o: called.append(m)) for m in leaves]
    try:
        out = block(x)
    except RuntimeError as err:  # e.g. a convolution built for the wrong number of input channels
        raise ExerciseError(f"{name}: the block failed on an input of shape {tuple(x.shape)}: {err}") from None
    finally:
        for h in handles:
            h.remove()
    expect(isinstance(out, torch.Tensor), f"{name}: the block must return a tensor, got {type(out).__name__}")
    return out, called


def _kinds(layers: list[nn.Module]) -> str:
    return " -> ".join(type(m).__name__ for m in layers) or "(no layers)"


# --------------------------------------------------------------------------------------------

def check_generator_block(fn: Callable[[int, int], Any]) -> None:
    """Check generator_block(in_channels, out_channels): ConvTranspose2d(4, 2, 1, no bias) -> BatchNorm2d -> ReLU."""
    name = "generator_block"
    torch.manual_seed(0)
    for c_in, c_out, side in ((32, 16, 7), (16, 8, 14), (24, 3, 4)):
        block = _build(fn, name, c_in, c_out)
        block.train()
        x = torch.randn(8, c_in, side, side)
        out, layers = _run(block, x, name)
        convs = [m for m in layers if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
        expect(not any(isinstance(m, _POOLS) for m in layers),
               f"{name}: found {_kinds(layers)}. DCGAN's generator upsamples with fractionally-strided "
               "(transposed) convolutions, without pooling or upsampling layers")
        expect(len(convs) == 1, f"{name}: the block should hold one convolution, found {_kinds(layers)}")
        expect(isinstance(convs[0], nn.ConvTranspose2d),
               f"{name}: use nn.ConvTranspose2d (a fractionally-strided convolution, which upsamples); "
               f"found {type(convs[0]).__name__}")
        want = (8, c_out, 2 * side, 2 * side)
        if tuple(out.shape) != want:
            conv = convs[0]
            raise ExerciseError(
                f"{name}({c_in}, {c_out}) turned a batch of shape {tuple(x.shape)} into {tuple(out.shape)}; it "
                f"must double the side: {want}. Your ConvTranspose2d has kernel {conv.kernel_size}, stride "
                f"{conv.stride}, padding {conv.padding}: the output side is (s - 1) * stride - 2 * padding + "
                "kernel, and kernel 4, stride 2, padding 1 gives 2 s")
        expect(not any(isinstance(m, nn.LeakyReLU) for m in layers),
               f"{name}: found {_kinds(layers)}. The DCGAN guidelines use ReLU in the generator (LeakyReLU is "
               "for the discriminator)")
        kinds = [type(m) for m in layers]
        expect(nn.BatchNorm2d in kinds, f"{name}: found {_kinds(layers)}; the generator's hidden layers use "
                                        "batch norm (nn.BatchNorm2d) after the convolution")
        expect(kinds == [nn.ConvTranspose2d, nn.BatchNorm2d, nn.ReLU],
               f"{name}: the layers must run ConvTranspose2d -> BatchNorm2d -> ReLU, found {_kinds(layers)}")
        conv, bn = layers[0], layers[1]
        expect(bn.num_features == c_out, f"{name}: BatchNorm2d({bn.num_features}) must normalise the "
                                         f"{c_out} output channels")
        expect(conv.bias is None,
               f"{name}: the convolution has a bias, but batch norm subtracts each channel's mean right after "
               "it, which removes any bias: pass bias=False (BN's own shift plays its role)")
        # What batch norm then ReLU do in train mode: every channel's pre-activation has mean 0 and
        # variance 1 over the batch, so about half of the outputs are exactly 0 and none is negative.
        expect(out.min().item() >= 0, f"{name}: the block's output has negative values; it must end with ReLU")
        zeros = (out == 0).float().mean().item()
        expect(0.3 < zeros < 0.7, f"{name}: {zeros:.0%} of the outputs are 0, where batch norm then ReLU zero "
                                  "about half of them: is the batch norm really between the convolution and ReLU?")
    passed(name)


def check_discriminator_block(fn: Callable[..., Any]) -> None:
    """Check discriminator_block(in_channels, out_channels, batch_norm=True): Conv2d -> [BN] -> LeakyReLU(0.2)."""
    name = "discriminator_block"
    torch.manual_seed(0)
    for c_in, c_out, side, batch_norm in ((1, 16, 28, False), (16, 32, 14, True), (3, 8, 32, False),
                                          (8, 16, 16, True)):
        block = _build(fn, name, c_in, c_out, batch_norm=batch_norm)
        block.train()
        x = torch.randn(8, c_in, side, side)
        out, layers = _run(block, x, name)
        expect(not any(isinstance(m, _POOLS) for m in layers),
               f"{name}: found {_kinds(layers)}. DCGAN replaces pooling with strided convolutions: let the "
               "convolution halve the image (stride 2)")
        convs = [m for m in layers if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
        expect(len(convs) == 1 and isinstance(convs[0], nn.Conv2d),
               f"{name}: the block should hold one nn.Conv2d, found {_kinds(layers)}")
        want = (8, c_out, side // 2, side // 2)
        if tuple(out.shape) != want:
            conv = convs[0]
            raise ExerciseError(
                f"{name}({c_in}, {c_out}) turned a batch of shape {tuple(x.shape)} into {tuple(out.shape)}; it "
                f"must halve the side: {want}. Your Conv2d has kernel {conv.kernel_size}, stride {conv.stride}, "
                f"padding {conv.padding}: the output side is (s + 2 * padding - kernel) // stride + 1, and "
                "kernel 4, stride 2, padding 1 gives s / 2")
        acts = [m for m in layers if isinstance(m, _ACTIVATIONS)]
        expect(len(acts) == 1 and isinstance(acts[0], nn.LeakyReLU),
               f"{name}: found {_kinds(layers)}. The discriminator uses LeakyReLU (slope 0.2) in every layer: "
               "ReLU's zero gradient for negative inputs would starve the generator of signal")
        expect(abs(acts[0].negative_slope - 0.2) < 1e-9,
               f"{name}: LeakyReLU's slope must be 0.2 (DCGAN's value), got {acts[0].negative_slope}")
        norms = [m for m in layers if isinstance(m, _NORMS)]
        if not batch_norm:
            expect(not norms, f"{name}(..., batch_norm=False) must not normalise (the discriminator's input layer "
                              f"sees the images themselves), found {_kinds(layers)}")
            expect([type(m) for m in layers] == [nn.Conv2d, nn.LeakyReLU],
                   f"{name}(..., batch_norm=False): the layers must run Conv2d -> LeakyReLU, found {_kinds(layers)}")
            continue
        expect(len(norms) == 1 and isinstance(norms[0], nn.BatchNorm2d),
               f"{name}(..., batch_norm=True) needs one nn.BatchNorm2d, found {_kinds(layers)}")
        expect([type(m) for m in layers] == [nn.Conv2d, nn.BatchNorm2d, nn.LeakyReLU],
               f"{name}: the layers must run Conv2d -> BatchNorm2d -> LeakyReLU, found {_kinds(layers)}")
        expect(norms[0].num_features == c_out,
               f"{name}: BatchNorm2d({norms[0].num_features}) must normalise the {c_out} output channels")
        expect(convs[0].bias is None,
               f"{name}: a convolution followed by batch norm needs no bias (bias=False): BN removes it")
        # LeakyReLU keeps negative values at a fifth of their size: after BN, about half the outputs are < 0.
        negative = (out < 0).float().mean().item()
        expect(0.3 < negative < 0.7, f"{name}: {negative:.0%} of the outputs are negative, where batch norm then "
                                     "LeakyReLU leaves about half of them negative")
    passed(name)


def _dcgan_like() -> nn.Sequential:
    """Return a network with every layer type DCGAN initialises, large enough for tight statistics."""
    return nn.Sequential(
        nn.ConvTranspose2d(100, 256, 4, 1, 0, bias=False),  # 409,600 weights
        nn.BatchNorm2d(256),
        nn.ReLU(),
        nn.ConvTranspose2d(256, 3, 4, 2, 1),                # with a bias
        nn.Conv2d(3, 64, 4, 2, 1),                          # with a bias
        nn.LeakyReLU(0.2),
        nn.Conv2d(64, 512, 4, 2, 1, bias=False),            # 524,288 weights
        nn.BatchNorm2d(512),
    )


@refuses("gancourse.models.dcgan.init_dcgan_weights_")
def check_dcgan_init(fn: Callable[[nn.Module], Any]) -> None:
    """Check init_dcgan_weights(model): conv weights ~ N(0, 0.02), batch-norm scales ~ N(1, 0.02), biases 0."""
    name = "init_dcgan_weights"
    model = _dcgan_like()
    with torch.no_grad():  # start far from the answer, so that a layer left alone shows
        for p in model.parameters():
            p.fill_(0.5)
    with torch.random.fork_rng():
        torch.manual_seed(0)
        call_student(fn, model)
    tconv, bn1, _, tconv_small, conv_small, _, conv, bn2 = model
    for label, layer in (("ConvTranspose2d", tconv), ("Conv2d", conv)):
        w = layer.weight.detach().double()
        mean, std = w.mean().item(), w.std().item()
        expect(std > 0, f"{name}: every weight of the {label} layer is {mean:.3g}: it was not initialised "
                        f"(handle {label} layers too: `isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))`)")
        if abs(mean - 0.02) < 0.01 and abs(std - 1.0) < 0.05:  # standard error of the mean: 1.6e-3
            raise ExerciseError(f"{name}: the {label} weights have mean 0.02 and std 1: nn.init.normal_(w, 0.02) "
                                "sets the MEAN; write nn.init.normal_(w, 0.0, 0.02)")
        if abs(std - 0.2) < 0.01:
            raise ExerciseError(f"{name}: the {label} weights have std {std:.3f}, ten times DCGAN's 0.02")
        expect(abs(mean) < 1e-3, f"{name}: the {label} weights must have mean 0, got {mean:.4f}")
        expect(abs(std - 0.02) < 1e-3, f"{name}: the {label} weights must have std 0.02, got {std:.4f}")
        # Normal, not uniform with the right std: P(|w| < 0.02) = erf(1 / sqrt 2) = 0.683, uniform 0.577.
        inside = (w.abs() < 0.02).double().mean().item()
        expect(abs(inside - math.erf(1 / math.sqrt(2))) < 0.01,
               f"{name}: {inside:.3f} of the {label} weights lie within one std of 0, where a normal "
               f"distribution puts {math.erf(1 / math.sqrt(2)):.3f}: draw them with nn.init.normal_")
    for layer in (tconv_small, conv_small):
        expect(abs(layer.weight.detach().std().item() - 0.02) < 0.005,
               f"{name}: the small {type(layer).__name__} layer was not initialised like the others "
               f"(std {layer.weight.detach().std().item():.4f}); initialise every convolution")
    scales = torch.cat([bn1.weight.detach(), bn2.weight.detach()]).double()  # 768 draws
    s_mean, s_std = scales.mean().item(), scales.std().item()
    if abs(s_mean) < 0.01:
        raise ExerciseError(f"{name}: the batch-norm scales have mean {s_mean:.3f}; they start near 1 "
                            "(nn.init.normal_(m.weight, 1.0, 0.02)), or batch norm would zero every activation")
    expect(s_std > 0, f"{name}: every batch-norm scale is {s_mean:.3g}; draw them from N(1, 0.02) "
                      "(nn.init.normal_(m.weight, 1.0, 0.02))")
    expect(abs(s_mean - 1.0) < 0.01 and abs(s_std - 0.02) < 0.005,
           f"{name}: the batch-norm scales must follow N(1, 0.02), got mean {s_mean:.4f}, std {s_std:.4f}")
    for label, layer in (("BatchNorm2d", bn1), ("BatchNorm2d", bn2), ("ConvTranspose2d", tconv_small),
                         ("Conv2d", conv_small)):
        expect(torch.all(layer.bias == 0).item(),
               f"{name}: the {label} biases must be 0 (nn.init.zeros_(m.bias)), got values like "
               f"{layer.bias.detach().flatten()[:3].tolist()}")
    passed(name)


# -- Experiment: a DCGAN whose glyphs the judge reads with confidence -------------------------

def check_judge_confidence(generator: nn.Module, threshold: float = 0.8, n: int = 500) -> None:
    """Grade a DCGAN trained on 28 x 28 glyphs: the glyph judge's mean confidence on its samples.

    The confidence of one image is the judge's largest class probability; real glyphs score about
    1, blobs about 0.1 to 0.5. ``n`` samples are drawn from a fixed seed.
    """
    from gancourse.metrics.judges import glyph_classifier
    from gancourse.models import generate

    name = "judge_confidence"
    expect(isinstance(generator, nn.Module) and isinstance(getattr(generator, "z_dim", None), int),
           f"{name}: pass the generator itself, an nn.Module with a z_dim attribute (such as DCGANGenerator)")
    images = generate(generator, n, seed=0)
    expect(tuple(images.shape[1:]) == (1, 28, 28),
           f"{name}: the judge reads 1 x 28 x 28 glyphs; your generator draws {tuple(images.shape[1:])}")
    expect(bool(torch.isfinite(images).all()), f"{name}: the samples contain NaN or infinite pixels")
    judge = glyph_classifier().model
    with torch.no_grad():
        confidence = torch.softmax(judge(images.float()), dim=1).max(dim=1).values.mean().item()
    expect(confidence >= threshold,
           f"{name}: the judge's mean confidence on your samples is {confidence:.2f} (at least {threshold} "
           "asked): train longer, or follow Chapter 3's schedule (a high learning rate, then a low one)")
    print(f"the judge's mean confidence on {n} samples: {confidence:.3f}")
    passed(name)
