"""Text -> image retrieval: how well a text encoder and an image encoder agree (chapter 10).

Each query caption i has exactly one matching candidate image, image i. The candidates are
ranked by cosine similarity to the query; ``retrieval_ranks`` returns where the true image lands
(0 = first). Top-1 accuracy is the share of rank 0: chance is 1 / (number of candidates).
"""

from __future__ import annotations

import torch

__all__ = ["retrieval_ranks", "top_k_accuracy"]


def retrieval_ranks(query_embeddings: torch.Tensor, candidate_embeddings: torch.Tensor) -> torch.Tensor:
    """Return, per query i, the rank of candidate i among all candidates by dot product (0 = best).

    Both (N, d); the rows should be unit vectors so that the dot product is the cosine. Ties
    count against the query (a tie with the true candidate ranks it after the other).
    """
    q, c = query_embeddings, candidate_embeddings
    if not (isinstance(q, torch.Tensor) and isinstance(c, torch.Tensor)) or q.ndim != 2 or q.shape != c.shape:
        raise ValueError(f"query and candidate embeddings must be two (N, d) tensors of the same shape, got "
                         f"{tuple(getattr(q, 'shape', ()))} and {tuple(getattr(c, 'shape', ()))}: one candidate "
                         "per query, candidate i matching query i")
    scores = q @ c.T
    true = scores.diagonal()[:, None]
    return ((scores >= true).sum(dim=1) - 1).long()


def top_k_accuracy(ranks: torch.Tensor, k: int = 1) -> float:
    """Return the share of queries whose true candidate ranks among the first ``k``."""
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"k must be a positive int, got {k!r}")
    return (ranks < k).float().mean().item()
