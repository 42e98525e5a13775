"""Training a text encoder and an image encoder together with InfoNCE (chapter 10's text guidance).

Each step draws a batch of caption specs WITHOUT repetition (all of them when the batch is as
large as the set), takes one of ``pool_size`` glyphs rendered for each and words each caption at
random, so that no two pairs in a batch share a description: InfoNCE's negatives are then all
true negatives. Rendering the pool once (32 glyphs per spec by default) costs a second or two;
rendering afresh at every step would cost half the run.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from gancourse import checks
from gancourse.data.captions import ALL_SPECS, VOCABULARY, CaptionSpec, caption, render_specs, tokenize
from gancourse.losses.contrastive import info_nce
from gancourse.models.text_image import TextImageEncoders

__all__ = ["TrainedEncoders", "train_text_image"]


@dataclass
class TrainedEncoders:
    """The trained encoders, the specs they were trained on, and the loss and batch accuracy per step."""

    model: TextImageEncoders
    specs: tuple[CaptionSpec, ...]
    history: pd.DataFrame = field(repr=False)
    seconds: float = 0.0


def train_text_image(steps: int, *, specs: Sequence[CaptionSpec] = ALL_SPECS, batch_size: int = 120,
                     lr: float = 2e-3, dim: int = 64, pool_size: int = 32, temperature: float = 0.07,
                     seed: int = 0, progress: bool = True) -> TrainedEncoders:
    """Return ``TextImageEncoders`` trained for ``steps`` steps of Adam on InfoNCE over ``specs``.

    ``history`` has per step the loss, ``log N - loss`` (InfoNCE's bound on the mutual information,
    in nats) and ``accuracy``: the share of captions whose own image scores highest in the batch.
    The learning rate falls linearly to zero over the run.
    """
    steps = checks.positive_int("steps", steps, "optimiser steps, e.g. 400")
    specs = tuple(specs)
    if len(set(specs)) != len(specs) or len(specs) < 2:
        raise ValueError(f"specs must be at least 2 distinct CaptionSpecs, got {len(specs)} "
                         f"({len(set(specs))} distinct)")
    batch_size = checks.integer("batch_size", batch_size, "pairs per step", at_least=2)
    batch_size = min(batch_size, len(specs))
    checks.number("lr", lr, "Adam's learning rate, e.g. 2e-3", at_least=0.0)
    pool_size = checks.positive_int("pool_size", pool_size, "glyphs rendered per spec, e.g. 32")
    checks.integer("seed", seed, at_least=0)
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = TextImageEncoders(len(VOCABULARY), dim, temperature)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 1 - s / steps)
    start = time.perf_counter()
    pool = render_specs([s for s in specs for _ in range(pool_size)], seed=int(rng.integers(2**31)))
    pool = pool.view(len(specs), pool_size, *pool.shape[1:])
    rows = []
    for step in tqdm(range(steps), desc="InfoNCE", disable=not progress):
        which = torch.from_numpy(rng.choice(len(specs), batch_size, replace=False))
        batch = [specs[i] for i in which]
        images = pool[which, torch.from_numpy(rng.integers(pool_size, size=batch_size))]
        tokens, lengths = tokenize([caption(s, rng) for s in batch])
        logits = model.logits(images, tokens, lengths)
        loss = info_nce(logits)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        accuracy = (logits.detach().argmax(dim=0) == torch.arange(batch_size)).float().mean()
        rows.append({"step": step, "loss": loss.item(), "mi_bound": float(np.log(batch_size)) - loss.item(),
                     "accuracy": accuracy.item(), "scale": model.scale.item()})
    model.eval()
    return TrainedEncoders(model, specs, pd.DataFrame(rows), time.perf_counter() - start)
