"""Streaming feature statistics: the mean and covariance FID needs, in float64, O(d²) memory.

Features arrive batch by batch (50,000 Inception vectors of 2,048 floats are 400 MB; their
statistics are 32 MB). Each batch's own mean and centred scatter are merged into the running ones
with the pairwise update of Chan, Golub & LeVeque (1979), which is exact and never subtracts two
large sums (the naive Σx xᵀ − N μ μᵀ loses every digit when the mean is large next to the spread).
Two ``FeatureStats`` merge the same way, so statistics computed in pieces (several workers, several
folders) add up to those of the whole.

Saved as .npz with pytorch-fid's keys ``mu`` and ``sigma`` (plus ``n``, the sample count), so a
file either tool wrote works in both.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from gancourse.metrics.frechet import CovarianceRoot, _as_cov, _as_mean, _frechet_validated, covariance_root

__all__ = ["FeatureStats"]


class FeatureStats:
    """Running mean ``mu`` and covariance ``sigma`` (ddof = 1, as ``numpy.cov``) of d-dimensional features."""

    def __init__(self, dim: int) -> None:
        if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)) or dim < 1:
            raise ValueError(f"dim must be a positive int (features per sample), got {dim!r}")
        self.dim = int(dim)
        self.n = 0
        self._mean = np.zeros(self.dim)
        self._scatter = np.zeros((self.dim, self.dim))  # Σ (x − mean)(x − mean)ᵀ
        self._root: CovarianceRoot | None = None  # kept with the trace of the covariance it factors
        self._trace = 0.0

    # -- building -----------------------------------------------------------------------------

    @classmethod
    def from_features(cls, features: object) -> "FeatureStats":
        """Return the statistics of an (N, d) array or tensor of features."""
        x = _as_batch(features, None)
        stats = cls(x.shape[1])
        return stats.update(x)

    def update(self, features: object) -> "FeatureStats":
        """Add an (N, d) batch of features; return self (so calls chain)."""
        x = _as_batch(features, self.dim)
        if x.shape[0] == 0:
            return self
        mean = x.mean(axis=0)
        centred = x - mean
        self._absorb(x.shape[0], mean, centred.T @ centred)
        return self

    def merge(self, other: "FeatureStats") -> "FeatureStats":
        """Return new statistics of both sample sets together (self and other stay unchanged)."""
        if not isinstance(other, FeatureStats):
            raise TypeError(f"can only merge FeatureStats, got {type(other).__name__}")
        if other.dim != self.dim:
            raise ValueError(f"cannot merge statistics of {self.dim} and {other.dim} features: different extractors?")
        if self.n < 0 or other.n < 0:
            raise ValueError("statistics loaded without a sample count (a pytorch-fid file) cannot be merged")
        out = FeatureStats(self.dim)
        out._absorb(self.n, self._mean, self._scatter)
        out._absorb(other.n, other._mean, other._scatter)
        return out

    __add__ = merge

    def _absorb(self, n_b: int, mean_b: np.ndarray, scatter_b: np.ndarray) -> None:
        if n_b == 0:
            return
        n_a, n = self.n, self.n + n_b
        delta = mean_b - self._mean
        # Chan et al.: the scatter of the union is both scatters plus the spread between the two means.
        self._scatter = self._scatter + scatter_b + np.outer(delta, delta) * (n_a * n_b / n)
        self._mean = self._mean + delta * (n_b / n)
        self.n = n
        self._root = None

    # -- reading ------------------------------------------------------------------------------

    @property
    def mu(self) -> np.ndarray:
        """Return the mean, shape (d,), float64."""
        self._need(1)
        return self._mean.copy()

    @property
    def sigma(self) -> np.ndarray:
        """Return the covariance with ddof = 1, shape (d, d), float64."""
        self._need(2)
        return self._scatter.copy() if self.n < 0 else self._scatter / (self.n - 1)

    def root(self) -> CovarianceRoot:
        """Return R with sigma = R Rᵀ, computed once and kept for repeated Fréchet distances."""
        if self._root is None:
            sigma = self.sigma
            self._root, self._trace = covariance_root(sigma), float(np.trace(sigma))
        return self._root

    def frechet_distance(self, other: "FeatureStats") -> float:
        """Return the Fréchet distance to ``other``, reusing this side's kept factor of sigma (call it on the reference).

        Per call only ``other`` is checked and only Rᵀ Σ₂ R and its eigenvalues are computed: this
        side was checked when its factor was made, and ``other``'s scatter matrix is used as it
        is, its 1 / (N − 1) applied to the eigenvalues instead of to a copy of the matrix.
        """
        if not isinstance(other, FeatureStats):
            raise TypeError(f"expected FeatureStats, got {type(other).__name__}")
        if other.dim != self.dim:
            raise ValueError(f"statistics of {self.dim} and {other.dim} features cannot be compared: use the same "
                             "extractor for both")
        other._need(2)
        root = self.root()
        scatter, scale = other._scatter, (1.0 if other.n < 0 else 1.0 / (other.n - 1))
        return _frechet_validated(self._mean, self._trace, root, _as_mean("other.mu", other._mean),
                                  _as_cov("other.sigma", scatter), scale)

    def _need(self, k: int) -> None:
        if 0 <= self.n < k:
            raise ValueError(f"these statistics hold {self.n} sample(s); a {'covariance' if k == 2 else 'mean'} "
                             f"needs at least {k}")

    # -- files --------------------------------------------------------------------------------

    def save(self, path: str | Path) -> Path:
        """Write ``mu``, ``sigma`` and ``n`` to an .npz file (pytorch-fid reads it); return the path."""
        path = Path(path)
        if path.suffix != ".npz":
            raise ValueError(f"statistics are saved as .npz, got {path.name!r}")
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(path, mu=self.mu, sigma=self.sigma, n=np.int64(self.n))
        return path

    @classmethod
    def load(cls, path: str | Path) -> "FeatureStats":
        """Return statistics from an .npz with ``mu`` and ``sigma`` (ours or pytorch-fid's; ``n`` optional)."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"no statistics file at {path}")
        try:
            with np.load(path, allow_pickle=False) as data:
                missing = {"mu", "sigma"} - set(data.files)
                if missing:
                    raise ValueError(f"{path} lacks {sorted(missing)}: FID statistics files hold 'mu' and 'sigma' "
                                     f"(it has {data.files})")
                mu, sigma = np.asarray(data["mu"], np.float64), np.asarray(data["sigma"], np.float64)
                n = int(data["n"]) if "n" in data.files else -1
        except ValueError:
            raise
        except Exception as err:  # a truncated or corrupt file: zipfile, zlib and numpy each raise their own
            raise ValueError(f"{path} is not a readable .npz of statistics ({type(err).__name__}: {err}); "
                             "write it again with FeatureStats.save or pytorch-fid --save-stats") from None
        if mu.ndim != 1 or sigma.shape != (mu.size, mu.size):
            raise ValueError(f"{path}: mu of shape {mu.shape} and sigma of shape {sigma.shape} do not fit together")
        if not (np.isfinite(mu).all() and np.isfinite(sigma).all()):
            raise ValueError(f"{path} holds NaN or Inf statistics")
        if 0 <= n < 2:
            raise ValueError(f"{path} says n = {n}: a covariance needs at least 2 samples")
        stats = cls(mu.size)
        stats._mean = mu
        # Without n (a pytorch-fid file) n is unknown (-1) and the covariance is kept as it is.
        stats.n = n
        stats._scatter = sigma * (n - 1) if n >= 2 else sigma.copy()
        return stats

    def __repr__(self) -> str:
        n = "unknown" if self.n < 0 else self.n
        return f"FeatureStats(dim={self.dim}, n={n})"


def _as_batch(features: object, dim: int | None) -> np.ndarray:
    """Return features as a float64 (N, d) array, checked."""
    if isinstance(features, torch.Tensor):
        features = features.detach().cpu().double().numpy()
    x = np.asarray(features, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"features must be an (N, d) matrix, one row per sample, got shape {x.shape}")
    if dim is not None and x.shape[1] != dim:
        raise ValueError(f"features have {x.shape[1]} dimensions but these statistics hold {dim}: same extractor?")
    if not np.isfinite(x).all():
        raise ValueError("features contain NaN or Inf: check the images and the extractor")
    return x
