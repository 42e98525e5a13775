"""Every check whose answer the package also ships refuses that answer: passed directly, called by name, or imported inside."""

from __future__ import annotations

import importlib

import pytest

from gancourse.exercises import ExerciseError
from gancourse.exercises import ch01, ch02, ch03, ch04, ch05, ch06, ch07, ch08

REFUSED = [
    (ch01.check_discriminator_loss_from_logits, "gancourse.losses", "discriminator_loss"),
    (ch02.check_sample_noise, "gancourse.models", "sample_noise"),
    (ch02.check_nonsaturating_generator_loss, "gancourse.losses", "nonsaturating_generator_loss"),
    (ch03.check_dcgan_init, "gancourse.models", "init_dcgan_weights_"),
    (ch04.check_gradient_penalty, "gancourse.losses", "gradient_penalty"),
    (ch04.check_wasserstein_generator_loss, "gancourse.losses", "wasserstein_generator_loss"),
    (ch05.check_conditional_d_step, "gancourse.training", "GANSteps"),
    (ch05.check_conditional_g_step, "gancourse.training", "GANSteps"),
    (ch06.check_sample_codes, "gancourse.models", "sample_latent"),
    (ch06.check_mi_loss, "gancourse.losses", "mutual_information_loss"),
    (ch07.check_noise_update, "gancourse.control", "noise_update"),
    (ch07.check_score_with_penalty, "gancourse.control", "score_with_penalty"),
    (ch08.check_frechet_distance, "gancourse.metrics", "frechet_distance"),
    (ch08.check_inception_score, "gancourse.metrics", "inception_score"),
]
IDS = [f"{check.__name__}-{name}" for check, _, name in REFUSED]


@pytest.mark.parametrize(("check", "module", "name"), REFUSED, ids=IDS)
def test_the_packages_own_function_is_refused(check, module, name):
    with pytest.raises(ExerciseError, match="package's own version"):
        check(getattr(importlib.import_module(module), name))


@pytest.mark.parametrize(("check", "module", "name"), REFUSED, ids=IDS)
def test_a_wrapper_calling_it_by_a_global_name_is_refused(check, module, name):
    namespace = {"answer": getattr(importlib.import_module(module), name)}
    exec("def solution(*args, **kwargs):\n    return answer(*args, **kwargs)\n", namespace)
    with pytest.raises(ExerciseError, match="write it yourself"):
        check(namespace["solution"])
    assert namespace["answer"] is getattr(importlib.import_module(module), name)  # restored afterwards


@pytest.mark.parametrize(("check", "module", "name"), REFUSED, ids=IDS)
def test_a_wrapper_importing_it_inside_is_refused(check, module, name):
    namespace: dict = {}
    exec(f"def solution(*args, **kwargs):\n    from {module} import {name}\n    return {name}(*args, **kwargs)\n",
         namespace)
    with pytest.raises(ExerciseError, match="write it yourself"):
        check(namespace["solution"])
