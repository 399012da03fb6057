"""Learning curves per learning-rate schedule, and fit time against scikit-learn
=============================================================================

After a fit, ``loss_curve_`` holds one value per epoch: the mean training objective
(log loss + L2 penalty) over the epoch's rows, each row's term taken at the weights
before that row's step, as scikit-learn's verbose output prints it. With
``early_stopping=True``, ``validation_scores_`` holds the accuracy on the held-out rows
after each epoch and ``best_validation_score_`` the best of them (the names of
scikit-learn's MLP). The figure has three panels, on one standardized binary data set
(``make_classification``, 40 features, 10 of them informative, 2% of the labels
flipped):

1. ``loss_curve_`` minus the optimum F* of the same objective (found to full precision
   by L-BFGS-B on sklloss's log-loss kernel), log scale, for each schedule over a fixed
   number of epochs. 'constant' stalls at a noise floor set by its step size,
   'invscaling' keeps going down, and 'optimal', whose step 1 / (alpha (t0 + t)) is
   large when alpha is small (here the default 1e-4), starts far above the others.
   'adaptive' divides its step by 5 each time the objective has not improved by
   ``tol`` for ``n_iter_no_change`` epochs, so it needs a ``tol``: with tol=None it is
   'constant' (in scikit-learn too). It gets tol=1e-4, the others tol=None; it still
   runs every epoch, as it stops only once its step is below 1e-6.
2. ``validation_scores_`` per epoch with ``early_stopping=True`` for each schedule (the
   default tol=1e-3 and n_iter_no_change=5; 'adaptive' keeps its tol=1e-4, and stops
   only once its step is below 1e-6); the star marks ``best_validation_score_``, the
   last point the epoch the fit stopped at. The fit keeps the last epoch's weights, not
   the best ones, as scikit-learn's does.
3. Fit time of ``sklloss.SGDClassifier`` and ``sklearn.linear_model.SGDClassifier``
   with the same settings (log loss, tol=None, a fixed number of epochs, the same
   random_state), binary and 10-class one-vs-rest, for a few data sizes: the median of
   several fits, alternating the two libraries. The printed and drawn ratio is sklloss's
   time over scikit-learn's (below 1: sklloss is faster). Times depend on the machine
   and its load; the ratios are what to compare.

The figure is written to plot_learning_curves.png in examples/images/, or in DIR with --out DIR::

    python examples/plot_learning_curves.py
    python examples/plot_learning_curves.py --out DIR
    python examples/plot_learning_curves.py --fast   # smaller and quicker: what the tests run
"""
import argparse
import os
import time
import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import sklearn  # noqa: E402
import sklearn.linear_model  # noqa: E402
from scipy.optimize import minimize  # noqa: E402
from sklearn.datasets import make_classification  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

import sklloss  # noqa: E402
from sklloss.losses import LogLoss  # noqa: E402

ALPHA = 1e-4  # SGDClassifier's default
N_FEATURES = 40
# Each schedule with the settings that make it sensible here, and its legend label.
SCHEDULES = {
    "optimal": (dict(), "optimal: η = 1 / (α (t₀ + t))"),
    "constant": (dict(eta0=0.01), "constant: η = 0.01"),
    "invscaling": (dict(eta0=0.1), "invscaling: η = 0.1 / t^0.5"),
    "adaptive": (dict(eta0=0.1, tol=1e-4),
                 "adaptive: η₀ = 0.1, ÷5 when stalled (tol = 1e-4)"),
}
COLORS = dict(zip(SCHEDULES, ["tab:blue", "tab:orange", "tab:green", "tab:red"]))


def make_data(n_samples, n_classes=2, seed=0):
    """Standardized make_classification data: 40 features, a few of them informative."""
    if n_classes == 2:
        X, y = make_classification(n_samples, n_features=N_FEATURES, n_informative=10,
                                   flip_y=0.02, random_state=seed)
    else:
        X, y = make_classification(n_samples, n_features=N_FEATURES, n_informative=20,
                                   n_classes=n_classes, n_clusters_per_class=1,
                                   random_state=seed)
    return StandardScaler().fit_transform(X), y


def optimum(X, y):
    """F* = min over (w, b) of mean log loss + alpha/2 |w|^2, by L-BFGS-B on the kernel."""
    loss, n_samples = LogLoss(), X.shape[0]

    def objective(theta):
        coef, intercept = theta[:-1], theta[-1]
        values, grad_raw = loss.loss_gradient(y, X @ coef + intercept)
        gradient = np.append(X.T @ grad_raw / n_samples + ALPHA * coef, grad_raw.mean())
        return values.mean() + 0.5 * ALPHA * coef @ coef, gradient

    result = minimize(objective, np.zeros(X.shape[1] + 1), jac=True, method="L-BFGS-B",
                      options=dict(maxiter=10_000, ftol=1e-15, gtol=1e-10))
    return result.fun


def fit_schedules(X, y, **settings):
    """One fitted sklloss.SGDClassifier per schedule."""
    models = {}
    for schedule, (params, _) in SCHEDULES.items():
        model = sklloss.SGDClassifier(loss="log_loss", alpha=ALPHA, learning_rate=schedule,
                                      random_state=0, **{**settings, **params})
        with warnings.catch_warnings():
            # 'adaptive' has a tol and runs every epoch: "not converged" is expected
            warnings.simplefilter("ignore", ConvergenceWarning)
            models[schedule] = model.fit(X, y)
    return models


def time_fits(sizes, n_classes_list, epochs, repeats):
    """Median fit times of both libraries with the same settings, alternating them."""
    settings = dict(loss="log_loss", alpha=ALPHA, max_iter=epochs, tol=None,
                    random_state=0)
    libraries = {"sklloss": sklloss.SGDClassifier,
                 "scikit-learn": sklearn.linear_model.SGDClassifier}
    X, y = make_data(sizes[0])
    for estimator in libraries.values():  # warm-up: first-call costs are not the fit's
        estimator(**settings).fit(X, y)
    rows = []
    for n_classes in n_classes_list:
        for n_samples in sizes:
            X, y = make_data(n_samples, n_classes)
            times = {name: [] for name in libraries}
            for _ in range(repeats):
                for name, estimator in libraries.items():
                    start = time.perf_counter()
                    estimator(**settings).fit(X, y)
                    times[name].append(time.perf_counter() - start)
            medians = {name: float(np.median(values)) for name, values in times.items()}
            rows.append(dict(n_classes=n_classes, n_samples=n_samples, **medians,
                             ratio=medians["sklloss"] / medians["scikit-learn"]))
    return rows


def task_label(n_classes):
    return "binary" if n_classes == 2 else f"{n_classes}-class OvR"


def plot(curves, best_objective, stopped, timings, n_samples, epochs, timing_epochs):
    fig, (ax_loss, ax_val, ax_time) = plt.subplots(
        1, 3, figsize=(18, 5.6), gridspec_kw=dict(width_ratios=[1.15, 1.15, 1]))

    x = np.arange(1, epochs + 1)
    for schedule, model in curves.items():
        gap = np.array(model.loss_curve_) - best_objective
        ax_loss.plot(x, gap, marker="o", markersize=3, color=COLORS[schedule],
                     label=SCHEDULES[schedule][1])
    ax_loss.set_yscale("log")
    ax_loss.set_xlabel("epoch")
    ax_loss.set_ylabel("loss_curve_ − F*   (F* = optimum, by L-BFGS-B)")
    ax_loss.set_title(f"Training objective per epoch\n"
                      f"log loss + L2 (α = {ALPHA:g}), {n_samples} samples, tol = None")
    ax_loss.legend(fontsize="small")
    ax_loss.grid(True, which="both", alpha=0.3)

    for schedule, model in stopped.items():
        scores = model.validation_scores_
        x = np.arange(1, len(scores) + 1)
        best = int(np.argmax(scores))
        ax_val.plot(x, scores, color=COLORS[schedule], linewidth=1.3, marker="o",
                    markersize=2.5,
                    label=f"{schedule}: best {model.best_validation_score_:.3f} at epoch "
                          f"{best + 1}, stopped at {model.n_iter_}")
        ax_val.plot(best + 1, model.best_validation_score_, marker="*", markersize=15,
                    color=COLORS[schedule], markeredgecolor="black", linestyle="none",
                    zorder=3)
    ax_val.set_xlabel("epoch")
    ax_val.set_ylabel("validation_scores_  (accuracy on the held-out 10%)")
    ax_val.set_title("early_stopping=True: validation accuracy per epoch\n"
                     "★ best_validation_score_; each line ends where its fit stopped")
    low, high = ax_val.get_ylim()
    ax_val.set_ylim(low, high + 0.45 * (high - low))  # room for the legend
    ax_val.legend(loc="upper right", fontsize="small")
    ax_val.grid(True, alpha=0.3)

    styles = {"sklloss": dict(linestyle="-", marker="o"),
              "scikit-learn": dict(linestyle="--", marker="s", markerfacecolor="white")}
    for n_classes, color in zip(sorted({row["n_classes"] for row in timings}),
                                ["tab:purple", "tab:brown"]):
        rows = [row for row in timings if row["n_classes"] == n_classes]
        sizes = [row["n_samples"] for row in rows]
        for library, style in styles.items():
            ax_time.plot(sizes, [1e3 * row[library] for row in rows], color=color,
                         label=f"{library}, {task_label(n_classes)}", **style)
        for row in rows:
            # the ratio halfway (on the log scale) between the two times it compares
            ours, theirs = 1e3 * row["sklloss"], 1e3 * row["scikit-learn"]
            ax_time.vlines(row["n_samples"], ours, theirs, color=color, linewidth=0.8,
                           linestyle=":")
            ax_time.annotate(f"×{row['ratio']:.2f}", (row["n_samples"], np.sqrt(ours * theirs)),
                             textcoords="offset points", xytext=(5, 0), va="center",
                             fontsize="small", color=color,
                             bbox=dict(facecolor="white", edgecolor="none", pad=0.5))
    sizes = sorted({row["n_samples"] for row in timings})
    ax_time.set_xscale("log")
    ax_time.set_yscale("log")
    ax_time.set_xticks(sizes, [f"{size:,}" for size in sizes])
    ax_time.set_xticks([], minor=True)
    ax_time.set_xlim(sizes[0] / 1.5, sizes[-1] * 2)  # room for the ratios on the right
    ax_time.set_xlabel("training samples (40 features)")
    ax_time.set_ylabel(f"fit time, ms  ({timing_epochs} epochs, median)")
    ax_time.set_title("Fit time, same settings and random_state\n"
                      "×r = sklloss time / scikit-learn time")
    ax_time.legend(loc="upper left", fontsize="small")
    ax_time.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    return fig


def main(fast=False, out_dir=None):
    """Fit, time, draw the figure; return the curves and the timings."""
    if out_dir is None:
        out_dir = os.path.join(os.path.dirname(os.path.abspath(__file__)), "images")
    os.makedirs(out_dir, exist_ok=True)
    n_samples, epochs = (2000, 10) if fast else (20000, 30)
    X, y = make_data(n_samples)
    best_objective = optimum(X, y)
    curves = fit_schedules(X, y, max_iter=epochs, tol=None)
    stopped = fit_schedules(X, y, max_iter=100, early_stopping=True)

    print(f"{n_samples} samples, {N_FEATURES} features, log loss + L2 (alpha = {ALPHA:g}); "
          f"optimum F* = {best_objective:.6f}")
    print(f"loss_curve_ with tol=None, max_iter={epochs}:")
    for schedule, model in curves.items():
        curve = np.array(model.loss_curve_)
        print(f"  {schedule:<10} {len(curve)} values, n_iter_ {model.n_iter_}: "
              f"first {curve[0]:.4f}, last {curve[-1]:.6f}, min {curve.min():.6f}, "
              f"last - F* {curve[-1] - best_objective:.2e}")
    print("validation_scores_ with early_stopping=True:")
    for schedule, model in stopped.items():
        scores = model.validation_scores_
        print(f"  {schedule:<10} {len(scores)} values, n_iter_ {model.n_iter_}: "
              f"best_validation_score_ {model.best_validation_score_:.4f} at epoch "
              f"{int(np.argmax(scores)) + 1}, last {scores[-1]:.4f}")

    sizes, repeats, timing_epochs = (((500, 2000), 1, 3) if fast
                                     else ((2000, 10000, 50000), 5, 10))
    timings = time_fits(sizes, (2, 10), timing_epochs, repeats)
    print(f"fit time, log loss, tol=None, max_iter={timing_epochs}, median of {repeats} "
          f"(sklloss {sklloss.__version__}, scikit-learn {sklearn.__version__}, "
          f"{os.cpu_count()} CPUs):")
    for row in timings:
        print(f"  {task_label(row['n_classes']):<13} {row['n_samples']:>6} samples: "
              f"sklloss {1e3 * row['sklloss']:8.1f} ms, scikit-learn "
              f"{1e3 * row['scikit-learn']:8.1f} ms, ratio sklloss/scikit-learn "
              f"{row['ratio']:.2f}")

    fig = plot(curves, best_objective, stopped, timings, n_samples, epochs, timing_epochs)
    path = os.path.join(out_dir, "plot_learning_curves.png")
    fig.savefig(path, dpi=100)
    print(f"figure written to {path}")
    return dict(loss_curves={s: list(m.loss_curve_) for s, m in curves.items()},
                validation_scores={s: list(m.validation_scores_) for s, m in stopped.items()},
                optimum=best_objective, timings=timings, path=path)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--fast", action="store_true",
                        help="less data, fewer epochs, one timing repeat (for the tests)")
    parser.add_argument("--out", default=None,
                        help="directory for the PNG (default: images/ next to this script)")
    args = parser.parse_args()
    main(fast=args.fast, out_dir=args.out)
