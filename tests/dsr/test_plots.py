"""The figures of a run: drawn for diverged and high-dimensional models too, never an error."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from attractor.models import build_model, make_config
from attractor.plot.dsr import MAX_PANELS, plot_losses, plot_power_spectra, write_dsr_plots


def test_a_diverging_model_is_drawn_up_to_its_last_finite_step(tmp_path) -> None:
    """An expanding PLRNN (A = 1.02) overflows float32 after ~4 500 steps of a 6 000-step run:
    the figures show the finite part instead of failing the whole run."""
    model = build_model(make_config("plrnn", obs_dim=3, latent_dim=3), key=jax.random.PRNGKey(0))
    model = eqx.tree_at(lambda m: (m.A, m.W), model, (jnp.full_like(model.A, 1.02),
                                                      jnp.zeros_like(model.W)))
    x = np.random.default_rng(0).standard_normal((6000, 3))
    x[0] = 1.0
    written = write_dsr_plots(tmp_path, model, x, losses=[1.0, 0.5])
    assert {p.name for p in written} == {"attractor.png", "timeseries.png", "spectra.png",
                                         "loss.png"}
    assert all(p.stat().st_size > 0 for p in written)


def test_high_dimensional_spectra_show_the_first_dimensions_only() -> None:
    x = np.random.default_rng(0).standard_normal((2000, 40))
    fig = plot_power_spectra(x, x)
    assert len(fig.axes) == MAX_PANELS


def test_the_loss_figure_marks_the_selected_check() -> None:
    ax = plot_losses([3.0, 2.0, 1.0, 0.5], validation=([2, 4], [0.4, None]))
    labels = [line.get_label() for other in ax.figure.axes for line in other.get_lines()]
    assert "validation D_stsp" in labels and "selected (epoch 2)" in labels


def test_the_loss_figure_marks_a_selection_the_probes_moved() -> None:
    """The lowest check (epoch 3) had a spurious attractor: the selected one is epoch 2."""
    ax = plot_losses([3.0, 2.0, 1.0], validation=([1, 2, 3], [0.9, 0.5, 0.3]), selected=2,
                     rejected=[3])
    lines = {line.get_label(): line for other in ax.figure.axes for line in other.get_lines()}
    assert "selected (epoch 2)" in lines
    assert list(lines["spurious attractor (basin probes)"].get_xdata()) == [3]
