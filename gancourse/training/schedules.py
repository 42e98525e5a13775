"""Learning-rate schedules: functions of the generator step (1, 2, ...) that return a multiplier.

``train_gan(..., lr_schedule=s)`` sets D's learning rate to ``config.lr_d * s(step)`` and G's to
``config.lr_g * s(step)`` before each step, as nanoGPT's ``get_lr(it)`` does for one network (a
multiplier, so that a two time-scale rule keeps its ratio). Any function of the step will do;
these two are the ones the course uses, written as small dataclasses so that they print what they
are and a card or a checkpoint can record them:

- ``PiecewiseConstant((1_500, 1.0), (2_500, 0.2))``: 1,500 steps at the full rate, then 2,500 at
  a fifth of it (a fast start, then a slow finish that sharpens the samples);
- ``LinearDecay(total_steps=8_000, decay_from=0.3)``: the full rate for 30 % of the steps, then a
  straight line down to 0 at the last step.
"""

from __future__ import annotations

from dataclasses import dataclass

from gancourse import checks

__all__ = ["PiecewiseConstant", "LinearDecay"]


@dataclass(frozen=True, init=False)
class PiecewiseConstant:
    """A multiplier held constant over consecutive runs of steps: ``PiecewiseConstant((steps, factor), ...)``."""

    pieces: tuple[tuple[int, float], ...]

    def __init__(self, *pieces: tuple[int, float]) -> None:
        if not pieces:
            raise ValueError("PiecewiseConstant needs at least one (steps, factor) piece, e.g. (1_500, 1.0)")
        checked = []
        for i, piece in enumerate(pieces):
            if not isinstance(piece, (tuple, list)) or len(piece) != 2:
                raise ValueError(f"piece {i} must be a pair (steps, factor) such as (1_500, 0.2), got {piece!r}")
            checked.append((checks.positive_int(f"piece {i}'s steps", piece[0]),
                            checks.number(f"piece {i}'s factor", piece[1], "the learning-rate multiplier",
                                          at_least=0)))
        object.__setattr__(self, "pieces", tuple(checked))

    @property
    def total_steps(self) -> int:
        """The steps the pieces cover; later steps keep the last factor."""
        return sum(steps for steps, _ in self.pieces)

    def __call__(self, step: int) -> float:
        """Return the multiplier at generator step ``step`` (1-based)."""
        end = 0
        for steps, factor in self.pieces:
            end += steps
            if step <= end:
                return factor
        return self.pieces[-1][1]


@dataclass(frozen=True)
class LinearDecay:
    """1 for the first ``decay_from`` share of ``total_steps``, then a linear fall that reaches 0 after the last."""

    total_steps: int
    decay_from: float = 0.0

    def __post_init__(self) -> None:
        checks.positive_int("total_steps", self.total_steps, "the run's generator steps")
        checks.fraction("decay_from", self.decay_from, "the share of the steps before the decay starts")

    def __call__(self, step: int) -> float:
        """Return the multiplier at generator step ``step`` (1-based): 1, then (T - step + 1) / (T - start)."""
        start = self.decay_from * self.total_steps
        if step <= start or self.decay_from >= 1:
            return 1.0
        return max(0.0, (self.total_steps - step + 1) / (self.total_steps - start))
