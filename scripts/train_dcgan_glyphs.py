"""Train the unconditional DCGAN that ships as ``gancourse/pretrained/dcgan_glyphs.*``, and measure it.

Chapter 7 steers its z; the evaluation chapter scores its samples. The recipe (deterministic from
the seed, on the CPU, one thread):

- data: 10,000 glyphs, ``GlyphDataset(10_000, seed=0)``, the quick profile's training set;
- networks: ``DCGANGenerator(z_dim=64, width=32)`` and ``DCGANDiscriminator(width=32)`` (batch norm);
- non-saturating loss, batches of 64, Adam with beta = (0.5, 0.999), in two phases: PHASES[0] at a
  learning rate of 1e-3 (fast: the digits' shapes), then PHASES[1] at 2e-4 with an exponential
  moving average of G's weights (decay 0.999) as the model we keep (steadier than the last raw G).

What it measures, on the model reloaded from its float16 file (``tests/test_dcgan_shipped.py``
measures it again), with the shipped glyph digit classifier as the judge, on N_EVAL samples drawn
with EVAL_SEED:

- ``confidence``: the judge's mean top-class probability (recognisable digits score high; the same
  judge on real glyphs gives ``real_confidence``, the ceiling);
- ``share_confident``: the share of samples whose top-class probability exceeds CONFIDENT;
- ``class_shares``: the share of samples the judge assigns to each digit, and ``classes_covered``:
  how many digits get at least COVERED_SHARE of the samples (10: no digit dropped, no mode collapse).

    OMP_NUM_THREADS=1 python scripts/train_dcgan_glyphs.py            # writes gancourse/pretrained/
    OMP_NUM_THREADS=1 python scripts/train_dcgan_glyphs.py --out-dir /tmp/dcgan   # anywhere else
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch

from gancourse.data.glyphs import GlyphDataset
from gancourse.models import DCGANDiscriminator, DCGANGenerator, sample_noise
from gancourse.models.classifier import glyph_classifier
from gancourse.pretrained.shipped import HERE, load_shipped, save_shipped
from gancourse.training import TrainConfig, train_gan

NAME = "dcgan_glyphs"
SEED = 0
N_TRAIN = 10_000
G_KWARGS = {"z_dim": 64, "image_size": 28, "channels": 1, "width": 32}
D_KWARGS = {"image_size": 28, "channels": 1, "width": 32}
PHASES = ((1_500, 1e-3), (3_500, 2e-4))  # (generator steps, learning rate of both networks)
EMA_DECAY = 0.999
N_EVAL, EVAL_SEED = 1_000, 2024
CONFIDENT = 0.9  # a sample "looks like one digit" when the judge gives that digit more than 90 %
COVERED_SHARE = 0.05  # a digit is covered when at least 5 % of the samples (half its fair 10 %) show it
JUDGE_SEED = 0  # gancourse.models.classifier.glyph_classifier(0), the classifier that ships


def judge_samples(G: torch.nn.Module, judge: torch.nn.Module, n: int = N_EVAL, seed: int = EVAL_SEED) -> dict:
    """Return the judge's verdict on n samples of G drawn with ``seed``: confidence, confident share, class shares."""
    z = sample_noise(n, G.z_dim, generator=torch.Generator().manual_seed(seed))
    G.eval()
    with torch.no_grad():
        return judge_images(G(z), judge)


def judge_images(images: torch.Tensor, judge: torch.nn.Module) -> dict:
    """Return {confidence, share_confident, class_shares, classes_covered} of the judge on ``images``."""
    with torch.no_grad():
        probs = torch.softmax(judge(images), dim=1)
    top, predicted = probs.max(dim=1)
    shares = torch.bincount(predicted, minlength=10).float() / len(images)
    return {"confidence": top.mean().item(), "share_confident": (top > CONFIDENT).float().mean().item(),
            "class_shares": shares.tolist(), "classes_covered": int((shares >= COVERED_SHARE).sum())}


def load_judge() -> torch.nn.Module:
    """Return the glyph digit classifier (seed 0) of gancourse.models.classifier, in eval mode."""
    return glyph_classifier(JUDGE_SEED, verbose=False).model.eval()


def train(seed: int = SEED) -> tuple[DCGANGenerator, float]:
    """Return (the EMA generator after all phases, the training's CPU seconds)."""
    data = GlyphDataset(N_TRAIN, seed=0)
    torch.manual_seed(seed)
    G = DCGANGenerator(**G_KWARGS)
    D = DCGANDiscriminator(**D_KWARGS)
    start = time.process_time()
    G_ema = None
    for i, (steps, lr) in enumerate(PHASES):
        last = i == len(PHASES) - 1
        config = TrainConfig(steps=steps, batch_size=64, lr_d=lr, lr_g=lr, seed=seed + i,
                             ema_decay=EMA_DECAY if last else None)
        history = train_gan(G, D, data.images, config, progress=False)
        late = history.to_frame().tail(200).mean()
        print(f"phase {i + 1}: {steps} steps at lr {lr:g}; last 200 steps D(x) {late.d_real:.3f}, "
              f"D(G(z)) {late.d_fake:.3f}; {time.process_time() - start:.0f} s CPU", flush=True)
        G_ema = history.ema_generator
    return G_ema, time.process_time() - start


def ship(G: DCGANGenerator, cpu_seconds: float, out_dir: Path = HERE) -> dict:
    """Measure G as it ships (float16, reloaded), write its weights and card to ``out_dir``; return the card's info."""
    judge = load_judge()
    recipe = (f"unconditional DCGAN (batch norm in G and D), widths 32/32, z_dim 64, {N_TRAIN} glyphs, "
              "non-saturating loss, batch 64, Adam betas (0.5, 0.999); "
              + ", then ".join(f"{s} steps at lr {lr:g}" for s, lr in PHASES)
              + f"; EMA of G (decay {EMA_DECAY}) over the last phase")
    real = GlyphDataset(N_EVAL, seed=EVAL_SEED).images  # glyphs the judge never saw (it trained on 10,000+)
    info = {"recipe": recipe, "seed": SEED, "steps": sum(s for s, _ in PHASES), "phases": [list(p) for p in PHASES],
            "ema_decay": EMA_DECAY, "n_train": N_TRAIN, "seconds": round(cpu_seconds),
            "rebuild": "OMP_NUM_THREADS=1 python scripts/train_dcgan_glyphs.py",
            "n_eval": N_EVAL, "eval_seed": EVAL_SEED, "confident": CONFIDENT, "covered_share": COVERED_SHARE,
            "judge": f"gancourse.models.classifier.glyph_classifier({JUDGE_SEED})",
            "real_confidence": round(judge_images(real, judge)["confidence"], 4)}
    # Measure the model as it ships: float16 weights, reloaded through load_shipped.
    with tempfile.TemporaryDirectory() as tmp:
        save_shipped(NAME, G, DCGANGenerator, G_KWARGS, info, out_dir=tmp)
        reloaded, _ = load_shipped(NAME, tmp)
    verdict = judge_samples(reloaded, judge)
    info.update(confidence=round(verdict["confidence"], 4), share_confident=round(verdict["share_confident"], 4),
                class_shares=[round(s, 4) for s in verdict["class_shares"]], classes_covered=verdict["classes_covered"])
    weights = save_shipped(NAME, G, DCGANGenerator, G_KWARGS, info, out_dir=out_dir)
    print(f"shipped (float16) model: judge confidence {verdict['confidence']:.3f} (real glyphs "
          f"{info['real_confidence']:.3f}), {verdict['share_confident']:.1%} of samples above {CONFIDENT:.0%}, "
          f"{verdict['classes_covered']}/10 digits covered; shares {[f'{s:.0%}' for s in verdict['class_shares']]}")
    print(f"training {cpu_seconds:.0f} s CPU; wrote {weights} ({weights.stat().st_size / 1e6:.2f} MB)")
    return info


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out-dir", type=Path, default=HERE, help="where to write the weights and the card")
    args = parser.parse_args()
    torch.set_num_threads(1)  # reproducible timings, and deterministic CPU kernels on one thread

    wall = time.perf_counter()
    G, cpu_seconds = train(SEED)
    ship(G, cpu_seconds, args.out_dir)
    print(f"{time.perf_counter() - wall:.0f} s wall in all")


if __name__ == "__main__":
    main()
