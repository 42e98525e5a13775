"""gancourse: the package behind the GAN Course notebooks."""

from gancourse.runtime import Profile, data_dir, device, is_colab, profile, seed_everything

__version__ = "0.1.0"

__all__ = ["Profile", "data_dir", "device", "is_colab", "profile", "seed_everything", "__version__"]
