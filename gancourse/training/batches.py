"""Real batches for the training loop: an endless, resumable iterator over a sampler, a tensor or a Dataset."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch.utils.data import Dataset, default_collate

from gancourse.checks import positive_int

__all__ = ["RealBatches", "batches", "Data"]

Data = Callable[[int], torch.Tensor] | torch.Tensor | Dataset  # a sampler n -> n samples, or the samples


class RealBatches:
    """An endless iterator over batches of real samples whose place can be saved and restored.

    A sampler (a function n -> tensor of n samples) is called for each batch; it must draw from
    torch's global RNG (as ``toy.sample(n)`` does) for a run to resume exactly. A tensor or a
    Dataset is read in shuffled passes, the last incomplete batch of a pass dropped; the current
    pass's order and position are the iterator's state. ``labels=True`` (a conditional GAN) yields
    (images, labels) from a Dataset of (image, label) pairs, e.g. ``GlyphDataset`` or ``TensorDataset``.
    """

    def __init__(self, data: Callable[[int], torch.Tensor] | torch.Tensor | Dataset, batch_size: int, *,
                 labels: bool = False) -> None:
        if labels and not isinstance(data, Dataset):
            raise TypeError("a conditional GAN needs labelled data: a Dataset of (image, label) pairs such as "
                            "GlyphDataset or torch.utils.data.TensorDataset(images, labels), got "
                            f"{type(data).__name__}")
        positive_int("batch_size", batch_size, "samples per batch")
        if isinstance(data, (torch.Tensor, Dataset)):
            n = data.shape[0] if isinstance(data, torch.Tensor) else len(data)  # type: ignore[arg-type]
            if n < batch_size:
                raise ValueError(f"the data {'tensor' if isinstance(data, torch.Tensor) else 'Dataset'} holds "
                                 f"{n} samples, fewer than batch_size={batch_size}")
        elif not callable(data):
            raise TypeError(
                "data must be a sampler (a function n -> tensor of n samples, e.g. `lambda n: ring.sample(n)`), "
                f"a tensor of samples or a torch Dataset; got {type(data).__name__}"
            )
        self.data, self.batch_size, self.labels = data, batch_size, labels
        self.order: torch.Tensor | None = None  # this pass's shuffled indices
        self.position = 0

    def __iter__(self) -> RealBatches:
        return self

    def __next__(self) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        if not isinstance(self.data, (torch.Tensor, Dataset)):
            return self._sample()
        if self.order is None or self.position + self.batch_size > len(self.order):
            self.order, self.position = self.new_order(), 0
        index = self.order[self.position : self.position + self.batch_size]
        self.position += self.batch_size
        if isinstance(self.data, torch.Tensor):
            return self.data[index]
        # What a DataLoader without workers does: fetch each item, then stack them.
        batch = default_collate([self.data[i] for i in index.tolist()])
        if self.labels:
            if not isinstance(batch, (tuple, list)) or len(batch) < 2:
                raise ValueError("a conditional GAN needs a Dataset whose items are (image, label) pairs")
            return batch[0], batch[1]
        # Labelled datasets yield (images, labels): a GAN only needs the images.
        return batch[0] if isinstance(batch, (tuple, list)) else batch

    def new_order(self) -> torch.Tensor:
        """Return the indices of the next pass, shuffled with torch's global RNG."""
        n = self.data.shape[0] if isinstance(self.data, torch.Tensor) else len(self.data)  # type: ignore[arg-type]
        return torch.randperm(n)

    def _sample(self) -> torch.Tensor:
        batch = self.data(self.batch_size)  # type: ignore[operator]
        if not isinstance(batch, torch.Tensor) or batch.shape[0] != self.batch_size:
            raise ValueError(
                f"the sampler must return a tensor of {self.batch_size} samples when called with {self.batch_size}, "
                f"got {type(batch).__name__} of shape {tuple(getattr(batch, 'shape', ()))}"
            )
        return batch

    def state_dict(self) -> dict[str, object]:
        """Return the place in the data: this pass's order and the position in it."""
        return {"order": self.order, "position": self.position}

    def load_state_dict(self, state: dict[str, object]) -> None:
        """Continue from a place returned by ``state_dict()``."""
        self.order, self.position = state["order"], int(state["position"])  # type: ignore[assignment,call-overload]


def batches(data: Data, batch_size: int, *, labels: bool = False) -> RealBatches:
    """Return an endless iterator of real batches (with ``labels=True``, (images, labels) pairs)."""
    return RealBatches(data, batch_size, labels=labels)
