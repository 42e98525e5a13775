"""Checks for the exercises of Chapter 5 (conditional GAN): one-hot labels, combining vectors, input sizes.

Every expected value is written out by hand below. Reference solutions, with the names and
signatures the checks call (the notebook's solution cells):

    import torch
    import torch.nn.functional as F

    def one_hot_labels(labels, n_classes):
        ### BEGIN SOLUTION
        return F.one_hot(labels, n_classes).float()
        ### END SOLUTION

    def combine_vectors(x, y):
        ### BEGIN SOLUTION
        return torch.cat([x.float(), y.float()], dim=1)
        ### END SOLUTION

    def get_input_dimensions(z_dim, image_shape, n_classes):
        ### BEGIN SOLUTION
        generator_input_dim = z_dim + n_classes
        discriminator_in_channels = image_shape[0] + n_classes
        return generator_input_dim, discriminator_in_channels
        ### END SOLUTION

The package's versions: ``gancourse.models.conditional.one_hot``, ``combine_vectors`` and
``input_dims``.
"""

from __future__ import annotations

from typing import Any, Callable

import torch

from gancourse.exercises._check import ExerciseError, call_student, expect, passed, refuses

__all__ = ["check_one_hot_labels", "check_combine_vectors", "check_input_dimensions"]


def _tensor(result: Any, fname: str) -> torch.Tensor:
    expect(result is not None, f"{fname} returned None: did you forget `return`?")
    expect(isinstance(result, torch.Tensor), f"{fname} must return a torch tensor, got {type(result).__name__}")
    return result


@refuses("gancourse.models.conditional.one_hot")
def check_one_hot_labels(fn: Callable[..., Any]) -> None:
    """Check one_hot_labels(labels, n_classes): float (N, n_classes), a 1 in each row's label column."""
    name = "one_hot_labels"
    labels = torch.tensor([0, 2, 1, 2])
    got = _tensor(call_student(fn, labels, 3), name)
    expect(tuple(got.shape) != (3, 4), f"{name}: got shape (3, 4), the transpose: one ROW per label, "
                                       "one column per class, (N, n_classes) = (4, 3)")
    expect(tuple(got.shape) == (4, 3), f"{name}(labels of 4 samples, 3 classes) must have shape (4, 3), "
                                       f"got {tuple(got.shape)}")
    want = torch.tensor([[1.0, 0, 0], [0, 0, 1], [0, 1, 0], [0, 0, 1]])
    if got.dtype in (torch.int64, torch.int32, torch.bool) and torch.equal(got.float(), want):
        raise ExerciseError(f"{name}: the values are right but the dtype is {got.dtype}: convert to float "
                            "(.float()), since the vectors are concatenated with z and multiplied by weights")
    expect(got.dtype == torch.float32, f"{name} must return float32 vectors, got {got.dtype}")
    if torch.equal(got, 1 - want):
        raise ExerciseError(f"{name}: you put 0 at the label and 1 elsewhere; a one-hot vector is 1 at the label")
    expect(torch.equal(got, want), f"{name}([0, 2, 1, 2], 3) should be {want.tolist()}, got {got.tolist()}")

    # n_classes counts the classes there ARE, not the largest label present in this batch.
    got = _tensor(call_student(fn, torch.tensor([1, 0, 1]), 5), name)
    expect(tuple(got.shape) == (3, 5), f"{name}(labels [1, 0, 1], n_classes=5) must have shape (3, 5): use "
                                       f"n_classes, not the largest label in the batch; got {tuple(got.shape)}")
    expect(torch.equal(got, torch.eye(5)[[1, 0, 1]]), f"{name}([1, 0, 1], 5): each row is 1 at its label, got "
                                                     f"{got.tolist()}")
    passed(name)


@refuses("gancourse.models.conditional.combine_vectors")
def check_combine_vectors(fn: Callable[..., Any]) -> None:
    """Check combine_vectors(x, y): [x, y] side by side along dimension 1, as float32."""
    name = "combine_vectors"
    x = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    y = torch.tensor([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    got = _tensor(call_student(fn, x, y), name)
    want = torch.tensor([[1.0, 2.0, 3.0, 0.0, 1.0, 0.0], [4.0, 5.0, 6.0, 1.0, 0.0, 0.0]])
    expect(tuple(got.shape) != (4, 3), f"{name}: got shape (4, 3): you stacked the rows (dim 0); put the vectors "
                                       "side by side, one row per sample: torch.cat(..., dim=1)")
    expect(tuple(got.shape) != (2, 2, 3), f"{name}: got shape (2, 2, 3): torch.stack adds a dimension; "
                                          "concatenate along dimension 1 with torch.cat")
    expect(tuple(got.shape) != (2, 3), f"{name}: got shape (2, 3): you added x and y; concatenate them, so the "
                                       "result has both x's and y's numbers")
    expect(tuple(got.shape) == (2, 6), f"{name}: x (2, 3) and y (2, 3) combine to shape (2, 6), got {tuple(got.shape)}")
    if torch.equal(got.float(), torch.cat([y, x], 1)):
        raise ExerciseError(f"{name}: x comes first, then y: torch.cat([x, y], dim=1)")
    expect(torch.equal(got.float(), want), f"{name}: expected {want.tolist()}, got {got.tolist()}")

    # z (2, 2) with integer one-hot labels (2, 3): different widths, and the result must be float.
    z = torch.tensor([[0.5, -1.0], [2.0, 0.0]], requires_grad=True)
    labels = torch.tensor([[0, 0, 1], [0, 1, 0]])
    got = _tensor(call_student(fn, z, labels), name)
    expect(tuple(got.shape) == (2, 5), f"{name}: z (2, 2) and labels (2, 3) combine to shape (2, 5), got "
                                       f"{tuple(got.shape)}")
    expect(torch.equal(got.detach().float(), torch.tensor([[0.5, -1.0, 0, 0, 1], [2.0, 0.0, 0, 1, 0]])),
           f"{name}: z = [[0.5, -1], [2, 0]] with labels [[0, 0, 1], [0, 1, 0]] should give "
           f"[[0.5, -1, 0, 0, 1], [2, 0, 0, 1, 0]], got {got.tolist()}")
    expect(got.requires_grad, f"{name}: the result lost z's gradient (detach, .numpy() or a new torch.tensor): G "
                              "is trained through it; build it with torch.cat")

    # Two integer tensors: the result still goes into a Linear layer, so it must be float.
    got = _tensor(call_student(fn, torch.tensor([[1, 2], [3, 4]]), torch.tensor([[5, 6], [7, 8]])), name)
    expect(got.dtype == torch.float32, f"{name}: with integer inputs the result must still be float32 (a Linear "
                                       f"layer takes floats): convert with .float(); got {got.dtype}")
    expect(torch.equal(got, torch.tensor([[1.0, 2, 5, 6], [3, 4, 7, 8]])),
           f"{name}([[1, 2], [3, 4]], [[5, 6], [7, 8]]) should be [[1, 2, 5, 6], [3, 4, 7, 8]], got {got.tolist()}")
    passed(name)


def check_input_dimensions(fn: Callable[..., Any]) -> None:
    """Check get_input_dimensions(z_dim, image_shape, n_classes) = (z_dim + n_classes, channels + n_classes)."""
    name = "get_input_dimensions"

    def run(z_dim: int, shape: tuple[int, int, int], k: int) -> tuple[int, int]:
        got = call_student(fn, z_dim, shape, k)
        expect(got is not None, f"{name} returned None: did you forget `return`?")
        expect(isinstance(got, (tuple, list)) and len(got) == 2,
               f"{name} must return two numbers (generator_input_dim, discriminator_in_channels), got {got!r}")
        expect(all(isinstance(v, int) and not isinstance(v, bool) for v in got),
               f"{name} must return two ints, got {got!r}")
        return int(got[0]), int(got[1])

    g, d = run(64, (1, 28, 28), 10)
    mistakes = {
        (11, 74): "the two are swapped: return (generator_input_dim, discriminator_in_channels)",
        (64, 11): "G's input is z AND the one-hot label: z_dim + n_classes = 74",
        (74, 1): "D must see the label too: one extra channel per class, 1 + 10 = 11",
        (74, 38): "you added the classes to image_shape[1], the height; the channels come first in (C, H, W)",
        (74, 794): "that is the size of a flattened image plus the label, an MLP's input; the convolutional D reads "
                   "the label as extra CHANNELS: image_shape[0] + n_classes",
        (74, 74): "D does not read z: its input is the image's channels plus one channel per class",
        (640, 11): "concatenation adds sizes: z_dim + n_classes, not z_dim * n_classes",
    }
    if (g, d) in mistakes:
        raise ExerciseError(f"{name}(64, (1, 28, 28), 10) should be (74, 11), got ({g}, {d}): {mistakes[(g, d)]}")
    expect((g, d) == (74, 11), f"{name}(64, (1, 28, 28), 10) should be (74, 11), got ({g}, {d})")
    g, d = run(100, (3, 64, 64), 5)
    expect((g, d) == (105, 8), f"{name}(100, (3, 64, 64), 5) should be (105, 8): RGB images have 3 channels, got "
                               f"({g}, {d})")
    passed(name)
