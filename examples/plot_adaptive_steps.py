"""Per-coordinate step sizes: learning_rate='adagrad' and 'normalized_adagrad'.
============================================================================

'adagrad' gives each coordinate its own step, eta / sqrt(sum of its squared gradients)
(diagonal AdaGrad; base step 10 eta0 = 0.1 at the default eta0). 'normalized_adagrad'
runs AdaGrad on the features divided by the largest ``|x_j|`` seen so far (NAG, Ross,
Mineiro and Langford 2013, Vowpal Wabbit's default update; base step 50 eta0): a
feature's units do not matter, so it needs no scaler. Its L2 penalty is on the
normalised weights w_j s_j, so the objective it minimises is that of MaxAbsScaler
followed by the same model. The figure has two panels, binary log loss, alpha = 1e-4:

1. On standardised ``make_classification`` data (40 features, 10 informative, 2% of
   the labels flipped): the relative training-objective gap (F - F*) / F* after E
   epochs (``max_iter=E``, ``tol=None``), ``F = mean log loss + alpha/2 |w|^2``, F* its
   minimum (``LogisticRegression`` with C = 1 / (n alpha), tol=1e-10), for sklloss's
   'optimal' (the default), 'invscaling' (eta0=0.1), 'adagrad' and
   'normalized_adagrad' (its F and F* on X / s, ``s = max |x_j|``). Both per-coordinate
   schedules reach a small gap in a few epochs at their default eta0; 'optimal' at
   alpha = 1e-4 starts far above.
2. The same data with each feature multiplied by 10^U(-3, 3) and no scaler: held-out
   accuracy after E epochs of sklloss 'normalized_adagrad', and of scikit-learn's
   ``SGDClassifier`` (defaults) without and with a ``StandardScaler`` in front.
   'normalized_adagrad' on the raw features is about as accurate as scikit-learn on
   standardised ones; scikit-learn on the raw ones is not.

The figure is written to plot_adaptive_steps.png in examples/images/, or in DIR with --out DIR::

    python examples/plot_adaptive_steps.py
    python examples/plot_adaptive_steps.py --out DIR
    python examples/plot_adaptive_steps.py --fast   # smaller and quicker: what the tests run
"""
import argparse
import os
import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import sklearn.linear_model  # noqa: E402
from sklearn.datasets import make_classification  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

import sklloss  # noqa: E402

ALPHA = 1e-4  # SGDClassifier's default
SCHEDULES = {
    "optimal": (dict(), "optimal (default)", "tab:blue"),
    "invscaling": (dict(eta0=0.1), "invscaling, eta0 = 0.1", "tab:red"),
    "adagrad": (dict(), "adagrad (default eta0)", "tab:orange"),
    "normalized_adagrad": (dict(), "normalized_adagrad (default eta0; on X / s)",
                           "tab:green"),
}


def make_data(n_samples, seed=0):
    X, y = make_classification(n_samples, n_features=40, n_informative=10, flip_y=0.02,
                               random_state=seed)
    return StandardScaler().fit_transform(X), y


def objective(X, y, coef, intercept):
    z = X @ coef + intercept
    return np.mean(np.logaddexp(0, -(2 * y - 1) * z)) + 0.5 * ALPHA * coef @ coef


def optimum(X, y):
    model = sklearn.linear_model.LogisticRegression(
        C=1.0 / (X.shape[0] * ALPHA), tol=1e-10, max_iter=10_000).fit(X, y)
    return objective(X, y, model.coef_.ravel(), model.intercept_[0])


def fit(estimator, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tol=None: "not converged" is expected
        return estimator.fit(X, y)


def objective_gaps(X, y, epochs):
    """(F - F*) / F* after E = 1..epochs epochs, per sklloss schedule."""
    s = np.abs(X).max(axis=0)
    F_star, F_star_scaled = optimum(X, y), optimum(X / s, y)
    gaps = {}
    for schedule, (params, _, _) in SCHEDULES.items():
        gaps[schedule] = []
        for e in range(1, epochs + 1):
            model = fit(sklloss.SGDClassifier(loss="log_loss", alpha=ALPHA,
                                              learning_rate=schedule, max_iter=e, tol=None,
                                              random_state=0, **params), X, y)
            coef, intercept = model.coef_.ravel(), model.intercept_[0]
            if schedule == "normalized_adagrad":  # its objective: the one on X / s
                gap = (objective(X / s, y, coef * s, intercept) - F_star_scaled) / F_star_scaled
            else:
                gap = (objective(X, y, coef, intercept) - F_star) / F_star
            gaps[schedule].append(gap)
    return gaps


def unscaled_accuracies(X, y, epochs):
    """Held-out accuracy after E epochs on features x 10^U(-3, 3), no scaler unless said."""
    X = X * 10.0 ** np.random.default_rng(1).uniform(-3, 3, X.shape[1])
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25,
                                                        random_state=0, stratify=y)
    models = {
        "sklloss normalized_adagrad, raw features":
            lambda e: sklloss.SGDClassifier(learning_rate="normalized_adagrad", **kw(e)),
        "scikit-learn SGDClassifier, raw features":
            lambda e: sklearn.linear_model.SGDClassifier(**kw(e)),
        "scikit-learn StandardScaler + SGDClassifier":
            lambda e: make_pipeline(StandardScaler(),
                                    sklearn.linear_model.SGDClassifier(**kw(e))),
    }
    accuracies = {}
    for name, make in models.items():
        accuracies[name] = []
        for e in range(1, epochs + 1):
            with np.errstate(all="ignore"):
                model = fit(make(e), X_train, y_train)
                accuracies[name].append(float(np.mean(model.predict(X_test) == y_test)))
    return accuracies


def kw(epochs):
    return dict(loss="log_loss", alpha=ALPHA, max_iter=epochs, tol=None, random_state=0)


def plot(gaps, accuracies, n_samples):
    fig, (ax_gap, ax_acc) = plt.subplots(1, 2, figsize=(13, 5.2))
    for schedule, values in gaps.items():
        _, label, color = SCHEDULES[schedule]
        ax_gap.plot(np.arange(1, len(values) + 1), values, marker="o", markersize=3,
                    color=color, label=label)
    ax_gap.set_yscale("log")
    ax_gap.set_xlabel("epochs (max_iter, tol = None)")
    ax_gap.set_ylabel("(F − F*) / F*")
    ax_gap.set_title(f"Training objective gap, standardised data\n"
                     f"log loss + L2 (α = {ALPHA:g}), {n_samples} samples, 40 features")
    ax_gap.legend(fontsize="small")
    ax_gap.grid(True, which="both", alpha=0.3)

    colors = ["tab:green", "tab:gray", "black"]
    styles = ["-", ":", "--"]
    for (name, values), color, style in zip(accuracies.items(), colors, styles):
        ax_acc.plot(np.arange(1, len(values) + 1), values, marker="o", markersize=3,
                    color=color, linestyle=style, label=name)
    ax_acc.set_xlabel("epochs (max_iter, tol = None)")
    ax_acc.set_ylabel("held-out accuracy (25% of the rows)")
    ax_acc.set_title("Features × 10^U(−3, 3): no scaler needed\n"
                     "normalized_adagrad vs scikit-learn's SGD with and without a scaler")
    ax_acc.legend(fontsize="small", loc="lower right")
    ax_acc.grid(True, alpha=0.3)
    fig.tight_layout()
    return fig


def main(fast=False, out_dir=None):
    """Fit, draw the figure; return the gaps and the accuracies."""
    if out_dir is None:
        out_dir = os.path.join(os.path.dirname(os.path.abspath(__file__)), "images")
    os.makedirs(out_dir, exist_ok=True)
    n_samples, epochs = (2000, 8) if fast else (20000, 20)
    X, y = make_data(n_samples)
    gaps = objective_gaps(X, y, epochs)
    accuracies = unscaled_accuracies(X, y, epochs)

    print(f"{n_samples} samples, 40 features, log loss + L2 (alpha = {ALPHA:g}), "
          f"{epochs} epochs")
    print("relative objective gap (F - F*) / F*, standardised data:")
    for schedule, values in gaps.items():
        print(f"  {schedule:<18} after 1 epoch {values[0]:.2e}, after {epochs} epochs "
              f"{values[-1]:.2e}")
    print("held-out accuracy, features x 10^U(-3,3):")
    for name, values in accuracies.items():
        print(f"  {name}: after 1 epoch {values[0]:.4f}, after {epochs} epochs "
              f"{values[-1]:.4f}")

    fig = plot(gaps, accuracies, n_samples)
    path = os.path.join(out_dir, "plot_adaptive_steps.png")
    fig.savefig(path, dpi=100)
    print(f"figure written to {path}")
    return dict(gaps=gaps, accuracies=accuracies, path=path)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--fast", action="store_true",
                        help="less data, fewer epochs (for the tests)")
    parser.add_argument("--out", default=None,
                        help="directory for the PNG (default: images/ next to this script)")
    args = parser.parse_args()
    main(fast=args.fast, out_dir=args.out)
