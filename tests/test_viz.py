"""Figures: the right number of axes and images, pixel values and surfaces checked by hand."""

from __future__ import annotations

import matplotlib.pyplot as plt  # conftest.py selects the headless Agg backend
import numpy as np
import pytest
import torch
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure
from matplotlib.image import AxesImage

from gancourse.models import MLPDiscriminator
from gancourse.training import History
from gancourse.viz import decision_surface, image_grid, plot_history, plot_samples_2d, plot_snapshots_2d


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _linear_discriminator(w: tuple[float, float], b: float) -> MLPDiscriminator:
    D = MLPDiscriminator(2, hidden=())  # one Linear layer: logit = w . x + b
    with torch.no_grad():
        D.net[0].weight.copy_(torch.tensor([w]))
        D.net[0].bias.fill_(b)
    return D


def _history(n: int) -> History:
    h = History()
    for i in range(1, n + 1):
        h.append(i, 1.3, 0.7, 0.55, 0.45)
    return h


# --- image_grid -------------------------------------------------------------------------------

def test_image_grid_layout_and_pixel_values():
    images = -torch.ones(10, 1, 28, 28)  # black images
    images[3] = 1.0                       # one white image
    fig = image_grid(images, nrow=4, title="t")
    assert isinstance(fig, Figure) and len(fig.axes) == 1
    (im,) = [a for a in fig.axes[0].get_children() if isinstance(a, AxesImage)]
    canvas = im.get_array()
    # 10 images, 4 per row -> 3 rows; 2 px padding around and between images.
    assert canvas.shape == (3 * 30 + 2, 4 * 30 + 2)
    assert canvas[2, 2] == 0.0                          # image 0, black
    assert canvas[2, 3 * 30 + 2] == 1.0                 # image 3 (row 0, column 3), white
    assert canvas[0, 0] == 1.0 and canvas[30, 5] == 1.0  # padding
    assert np.all(canvas[2 * 30 + 2:, 2 * 30 + 2:] == 1.0)  # the two empty slots of the last row
    assert fig.axes[0].get_title() == "t"


def test_image_grid_rgb_and_given_axes():
    fig, ax = plt.subplots()
    out = image_grid(torch.zeros(3, 3, 8, 8), nrow=8, ax=ax)
    assert out is fig
    (im,) = [a for a in ax.get_children() if isinstance(a, AxesImage)]
    assert im.get_array().shape == (12, 3 * 10 + 2, 3)
    assert np.allclose(im.get_array()[2:10, 2:10], 0.5)  # 0 in [-1, 1] is mid-grey


@pytest.mark.parametrize(
    "images",
    [torch.zeros(4, 28, 28), torch.zeros(4, 2, 8, 8), torch.zeros(0, 1, 8, 8), torch.full((2, 1, 8, 8), 1.5),
     torch.full((2, 1, 8, 8), float("nan"))],
)
def test_image_grid_rejects_bad_images(images):
    with pytest.raises(ValueError):
        image_grid(images)


# --- 2-D samples and decision surfaces --------------------------------------------------------

def test_decision_surface_matches_the_sigmoid_of_a_linear_logit():
    D = _linear_discriminator((2.0, -1.0), 0.5)
    xx, yy, prob = decision_surface(D, (-1.0, 1.0, -2.0, 2.0), resolution=5)
    assert xx.shape == yy.shape == prob.shape == (5, 5)
    assert xx[0].tolist() == pytest.approx([-1.0, -0.5, 0.0, 0.5, 1.0])
    assert yy[:, 0].tolist() == pytest.approx([-2.0, -1.0, 0.0, 1.0, 2.0])
    want = 1 / (1 + np.exp(-(2 * xx - yy + 0.5)))
    np.testing.assert_allclose(prob, want, rtol=1e-5)


def test_decision_surface_keeps_the_training_mode_and_rejects_bad_bounds():
    D = _linear_discriminator((0.0, 0.0), 0.0)
    D.train()
    decision_surface(D, (0, 1, 0, 1), resolution=3)
    assert D.training
    with pytest.raises(ValueError):
        decision_surface(D, (1, 0, 0, 1))


def test_plot_samples_2d_with_surface_and_real_samples():
    D = _linear_discriminator((1.0, 0.0), 0.0)
    ax = plot_samples_2d(torch.randn(50, 2), real=torch.randn(30, 2), discriminator=D, bounds=(-3, 3, -3, 3),
                         title="x", colorbar=True)
    scatters = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert [len(s.get_offsets()) for s in scatters] == [30, 50]  # real first, generated on top
    assert len(ax.collections) > len(scatters)  # the filled contour
    assert ax.get_xlim() == (-3, 3) and ax.get_title() == "x"
    assert len(ax.figure.axes) == 2  # the plot and its colour bar


def test_plot_samples_2d_without_surface_fits_the_data():
    ax = plot_samples_2d(np.array([[0.0, 0.0], [1.0, 2.0]]))
    assert len(ax.collections) == 1
    xmin, xmax = ax.get_xlim()
    assert xmin < 0 and xmax > 1


@pytest.mark.parametrize(("samples", "real"), [(torch.zeros(5, 3), None), (torch.zeros(5, 2), torch.zeros(5))])
def test_plot_samples_2d_rejects_bad_shapes(samples, real):
    with pytest.raises(ValueError):
        plot_samples_2d(samples, real)


def test_plot_snapshots_2d_one_panel_per_snapshot_plus_colour_bar():
    D = _linear_discriminator((1.0, 1.0), 0.0)
    snaps = [(step, torch.randn(20, 2), D) for step in (0, 10, 20, 30)]
    fig = plot_snapshots_2d(snaps, real=torch.randn(20, 2), bounds=(-2, 2, -2, 2))
    assert len(fig.axes) == 5
    assert [ax.get_title() for ax in fig.axes[:4]] == ["step 0", "step 10", "step 20", "step 30"]
    with pytest.raises(ValueError):
        plot_snapshots_2d([])


# --- history ----------------------------------------------------------------------------------

def test_plot_history_two_panels_with_their_curves():
    fig = plot_history(_history(30), smooth=5, title="run")
    assert len(fig.axes) == 2
    loss_ax, d_ax = fig.axes
    # two curves and the 2 log 2 reference line; two curves and the 1/2 line
    assert len(loss_ax.get_lines()) == 3 and len(d_ax.get_lines()) == 3
    np.testing.assert_allclose(loss_ax.get_lines()[0].get_ydata(), 1.3)
    assert loss_ax.get_lines()[2].get_ydata()[0] == pytest.approx(2 * np.log(2))


def test_plot_history_running_mean_by_hand():
    h = History()
    for i, v in enumerate([1.0, 2.0, 3.0, 4.0], start=1):
        h.append(i, v, -v, 0.5, 0.5)
    d_loss, g_loss = plot_history(h, smooth=2).axes[0].get_lines()[:2]
    # Running means over 2 steps, shorter at the start: 1, (1+2)/2, (2+3)/2, (3+4)/2.
    np.testing.assert_allclose(d_loss.get_ydata(), [1.0, 1.5, 2.5, 3.5])
    np.testing.assert_allclose(g_loss.get_ydata(), [-1.0, -1.5, -2.5, -3.5])
    np.testing.assert_allclose(plot_history(h, smooth=1).axes[0].get_lines()[0].get_ydata(), [1, 2, 3, 4])


def test_plot_history_rejects_empty_history_and_bad_smoothing():
    with pytest.raises(ValueError):
        plot_history(History())
    with pytest.raises(ValueError):
        plot_history(_history(3), smooth=0)
