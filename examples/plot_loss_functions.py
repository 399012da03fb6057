"""Every loss of sklloss.losses and its derivative, as the compiled kernels compute them
=====================================================================================

Each curve is the output of a loss object's ``loss`` and ``gradient`` methods on a grid
(no formula is written here), which run the scalar kernels the SGD engine runs. Shown:

- regression losses against the residual r = y - p (y = 0, raw prediction p = -r);
- the log-link (count and cost) losses against the raw prediction p, the log of the
  predicted mean, for y = 1 (their minimum is at p = log y = 0);
- binary losses against the margin z = y p (y = +1, p = z);
- the multinomial loss for K = 3 classes with raw predictions (z, 0, 0) and true
  class 0, against z (K = 2 would give the binary log loss of margin z).

The derivative row shows ``gradient``: the derivative with respect to the raw
prediction p (for the multinomial loss, with respect to its first output). For the
regression losses that is minus the slope of the loss curve above it, which is drawn
against r = y - p.

The losses are read from ``sklloss.losses.LOSSES``, so a new loss appears in its
task's column without a change here.

The figure is written to plot_loss_functions.png in examples/images/, or in DIR with --out DIR::

    python examples/plot_loss_functions.py
    python examples/plot_loss_functions.py --out DIR
    python examples/plot_loss_functions.py --fast   # smaller and quicker: what the tests run
"""
import argparse
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from sklloss.losses import LOSSES, LogLink  # noqa: E402

EPSILON = 1.0  # epsilon of the losses that have one: large enough to see the kinks
N_CLASSES = 3  # classes of the multinomial panel


def regression_curves(loss, x):
    """Loss and d loss / d p at the residuals x = y - p (y = 0, p = -x)."""
    y, raw = np.zeros_like(x), -x
    return loss.loss(y, raw), loss.gradient(y, raw)


def log_link_curves(loss, x):
    """Loss and d loss / d p at the raw predictions x = p, log of the mean (y = 1)."""
    y = np.ones_like(x)
    return loss.loss(y, x), loss.gradient(y, x)


def binary_curves(loss, x):
    """Loss and d loss / d p at the margins x = y p (y = +1, p = x)."""
    y = np.ones_like(x)
    return loss.loss(y, x), loss.gradient(y, x)


def multinomial_curves(loss, x):
    """Loss and d loss / d p_0 with raw predictions (x, 0, ..., 0) and true class 0."""
    raw = np.zeros((x.shape[0], N_CLASSES))
    raw[:, 0] = x
    y = np.zeros_like(x)
    return loss.loss(y, raw), loss.gradient(y, raw)[:, 0]


# One column of panels per task: how to evaluate a loss on the grid, and the labels.
PANELS = {
    "regression": dict(
        curves=regression_curves, grid=(-3.0, 3.0),
        title="Regression losses",
        xlabel="residual  r = y − p",
        dlabel="∂loss/∂p  (= −∂loss/∂r)",
    ),
    "log_link": dict(
        curves=log_link_curves, grid=(-2.0, 2.0),
        title="Regression losses with a log link",
        xlabel="raw prediction  p = log(mean)   (y = 1)",
        dlabel="∂loss/∂p",
    ),
    "binary": dict(
        curves=binary_curves, grid=(-2.5, 2.5),
        title="Binary classification losses",
        xlabel="margin  z = y·p   (y = +1)",
        dlabel="∂loss/∂p  (= ∂loss/∂z for y = +1)",
    ),
    "multiclass": dict(
        curves=multinomial_curves, grid=(-4.0, 4.0),
        title=f"Multinomial loss, K = {N_CLASSES}:\n"
              f"raw p = (z{', 0' * (N_CLASSES - 1)}), true class 0",
        xlabel="raw prediction of the true class  z = p₀",
        dlabel="∂loss/∂p₀",
    ),
}


def make_losses():
    """One loss object per entry of LOSSES, grouped by task, with its legend label."""
    groups = {}
    for name, cls in LOSSES.items():
        loss = cls()
        params = {"epsilon": EPSILON} if "epsilon" in loss.get_params() else {}
        loss.set_params(**params)
        task = "log_link" if isinstance(loss.link, LogLink) else loss.task
        if task not in PANELS:
            raise NotImplementedError(
                f"Loss {name!r} has task {task!r}, which this example has no panel "
                f"for; add one to PANELS."
            )
        label = name + "".join(f" ({key} = {value:g})".replace("epsilon", "ε")
                               for key, value in loss.get_params().items())
        groups.setdefault(task, []).append((label, loss))
    return groups


def plot(groups, n_points):
    tasks = [task for task in PANELS if task in groups]
    fig, axes = plt.subplots(2, len(tasks), figsize=(4.6 * len(tasks), 7.4),
                             squeeze=False, sharex="col")
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    # Several curves coincide on stretches (Huber's derivative is squared error's for
    # |r| < epsilon and epsilon-insensitive's beyond): each is drawn thinner and in a
    # different style than the one before, so that the covered ones stay visible.
    styles = ["-", "--", "-.", ":", (0, (5, 1, 1, 1))]
    for column, task in enumerate(tasks):
        panel = PANELS[task]
        x = np.linspace(*panel["grid"], n_points)
        top, bottom = axes[0, column], axes[1, column]
        for i, (label, loss) in enumerate(groups[task]):
            value, derivative = panel["curves"](loss, x)
            style = dict(color=colors[i % len(colors)], linestyle=styles[i % len(styles)],
                         linewidth=max(3.4 - 0.5 * i, 1.4))
            top.plot(x, value, label=label, **style)
            bottom.plot(x, derivative, **style)
        top.set_title(panel["title"])
        top.set_ylabel("loss")
        top.legend(loc="upper center", fontsize="small", frameon=True)
        bottom.set_ylabel(panel["dlabel"])
        bottom.set_xlabel(panel["xlabel"])
        for ax in (top, bottom):
            ax.axhline(0, color="0.6", linewidth=0.8, zorder=0)
            ax.axvline(0, color="0.6", linewidth=0.8, zorder=0)
            ax.grid(True, alpha=0.3)
            ax.set_xlim(*panel["grid"])
    fig.suptitle("sklloss losses (top) and their derivatives (bottom), "
                 "computed by the compiled kernels", fontsize="large")
    fig.tight_layout()
    return fig


def main(fast=False, out_dir=None):
    """Draw the figure; return the path of the PNG written."""
    if out_dir is None:
        out_dir = os.path.join(os.path.dirname(os.path.abspath(__file__)), "images")
    os.makedirs(out_dir, exist_ok=True)
    groups = make_losses()
    fig = plot(groups, n_points=401 if fast else 2001)
    path = os.path.join(out_dir, "plot_loss_functions.png")
    fig.savefig(path, dpi=100)
    n_losses = sum(len(losses) for losses in groups.values())
    print(f"{n_losses} losses plotted; figure written to {path}")
    return path


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--fast", action="store_true", help="coarser grid (for the tests)")
    parser.add_argument("--out", default=None,
                        help="directory for the PNG (default: images/ next to this script)")
    args = parser.parse_args()
    main(fast=args.fast, out_dir=args.out)
