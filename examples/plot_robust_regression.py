"""Choose between squared error and Huber loss by cross-validation, on data with outliers.
=======================================================================================

The training data follow a line with Gaussian noise, except for 15% of the targets,
which a faulty sensor reads 5 to 15 units too high. A ``GridSearchCV`` over a
``StandardScaler`` + ``sklloss.SGDRegressor`` pipeline compares loss="squared_error"
with ``sklloss.losses.Huber`` objects of several epsilons (a loss object carries its
own epsilon, so one grid axis covers both the loss and its parameter).

What the search rewards decides what it picks. The validation folds hold outliers
too, so the scoring must say what a good fit is: here it is the median absolute error,
the typical error on a validation point, which a minority of outliers barely moves.
(The mean squared error on the same folds rewards predicting the outliers' inflated
mean: it prefers the fits closest to least squares, squared error or Huber with an
epsilon as large as the outliers, as the printed table shows.) The choice is then
checked where it matters, on data the search never saw: R² on a clean test set drawn
from the true line.

The figure is written to plot_robust_regression.png in examples/images/, or in DIR with --out DIR::

    python examples/plot_robust_regression.py
    python examples/plot_robust_regression.py --out DIR
    python examples/plot_robust_regression.py --fast   # smaller and quicker: what the tests run
"""
import argparse
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.base import clone  # noqa: E402
from sklearn.metrics import r2_score  # noqa: E402
from sklearn.model_selection import GridSearchCV, KFold  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

import sklloss  # noqa: E402
from sklloss.losses import Huber  # noqa: E402

SLOPE, INTERCEPT, NOISE = 0.8, 2.0, 0.5  # the true line and the inliers' noise (std)
OUTLIER_FRACTION = 0.15


def make_data(n_samples, outlier_fraction, rng):
    """x uniform on [0, 10], y on the line plus noise; a fraction of y read too high."""
    x = rng.uniform(0, 10, n_samples)
    y = SLOPE * x + INTERCEPT + rng.normal(0, NOISE, n_samples)
    is_outlier = rng.uniform(size=n_samples) < outlier_fraction
    y[is_outlier] += rng.uniform(5, 15, is_outlier.sum())
    return x.reshape(-1, 1), y, is_outlier


def loss_label(loss):
    return "squared error" if loss == "squared_error" else f"Huber, ε = {loss.epsilon:g}"


def search(X, y, epsilons, max_iter):
    """Grid search over the loss; refit on the median absolute error."""
    # tol=None runs all max_iter epochs: every candidate reaches its own optimum, so
    # the search compares the losses, not how fast SGD gets there (a small epsilon
    # clips the gradient and needs many epochs).
    pipeline = make_pipeline(
        StandardScaler(),
        sklloss.SGDRegressor(max_iter=max_iter, tol=None, random_state=0),
    )
    grid = {"sgdregressor__loss": ["squared_error"] + [Huber(epsilon=e) for e in epsilons]}
    scoring = {"median_ae": "neg_median_absolute_error", "mse": "neg_mean_squared_error"}
    cv = KFold(n_splits=5, shuffle=True, random_state=0)
    return GridSearchCV(pipeline, grid, scoring=scoring, refit="median_ae", cv=cv).fit(X, y)


def candidate_table(grid_search, X, y, X_test, y_test):
    """One row per candidate: CV scores, and R² on the clean test set of its refit."""
    results = grid_search.cv_results_
    rows = []
    for i, params in enumerate(results["params"]):
        model = clone(grid_search.estimator).set_params(**params).fit(X, y)
        rows.append(dict(
            loss=params["sgdregressor__loss"],
            median_ae=-float(results["mean_test_median_ae"][i]),
            median_ae_std=float(results["std_test_median_ae"][i]),
            mse=-float(results["mean_test_mse"][i]),
            test_r2=float(r2_score(y_test, model.predict(X_test))),
            model=model,
        ))
    return rows


def plot(X, y, is_outlier, rows, best):
    squared = next(row for row in rows if row["loss"] == "squared_error")
    huber = min((row for row in rows if row is not squared), key=lambda row: row["median_ae"])
    fig, (ax_data, ax_bars) = plt.subplots(
        1, 2, figsize=(12, 4.8), gridspec_kw=dict(width_ratios=[1.35, 1]))

    ax_data.scatter(X[~is_outlier, 0], y[~is_outlier], s=14, color="0.55", alpha=0.7,
                    label="training data (inliers)")
    ax_data.scatter(X[is_outlier, 0], y[is_outlier], s=28, color="tab:red", marker="x",
                    label=f"outliers ({is_outlier.mean():.0%} of the training data)")
    x_line = np.linspace(0, 10, 2).reshape(-1, 1)
    for row, color in ((squared, "tab:blue"), (huber, "tab:orange")):
        ax_data.plot(x_line, row["model"].predict(x_line), color=color, linewidth=3,
                     label=f"{loss_label(row['loss'])}: clean test R² {row['test_r2']:.3f}")
    ax_data.plot(x_line, SLOPE * x_line + INTERCEPT, color="black", linestyle="--",
                 linewidth=1.2, label="true line")  # drawn last: Huber's fit hides it
    ax_data.set_xlabel("x")
    ax_data.set_ylabel("y")
    ax_data.set_title("Fits of the best squared-error and best Huber candidates")
    ax_data.set_ylim(0, 1.5 * y.max())  # room for the legend above the points
    ax_data.legend(loc="upper left", fontsize="small")
    ax_data.grid(True, alpha=0.3)

    labels = [loss_label(row["loss"]) for row in rows]
    values = [row["median_ae"] for row in rows]
    colors = ["tab:blue" if row is squared else "tab:orange" for row in rows]
    positions = np.arange(len(rows))[::-1]  # first candidate on top
    bars = ax_bars.barh(positions, values, xerr=[row["median_ae_std"] for row in rows],
                        color=colors, alpha=0.85, capsize=3)
    bars[best].set_edgecolor("black")
    bars[best].set_linewidth(2)
    for position, row in zip(positions, rows):
        ax_bars.text(row["median_ae"] + row["median_ae_std"] + 0.03, position,
                     f"clean test R² {row['test_r2']:.3f}", va="center", fontsize="small")
    ax_bars.set_yticks(positions, labels)
    ax_bars.set_xlim(0, 1.55 * max(v + row["median_ae_std"] for v, row in zip(values, rows)))
    ax_bars.set_xlabel("CV median absolute error (lower is better)\n"
                       "mean ± std over 5 folds")
    ax_bars.set_title(f"Grid search chose {loss_label(rows[best]['loss'])} (black edge)")
    ax_bars.grid(True, axis="x", alpha=0.3)
    fig.tight_layout()
    return fig


def main(fast=False, out_dir=None):
    """Run the search, draw the figure; return the choice and the scores."""
    if out_dir is None:
        out_dir = os.path.join(os.path.dirname(os.path.abspath(__file__)), "images")
    os.makedirs(out_dir, exist_ok=True)
    rng = np.random.RandomState(0)
    X, y, is_outlier = make_data(150 if fast else 300, OUTLIER_FRACTION, rng)
    X_test, y_test, _ = make_data(1000, 0.0, rng)  # clean: what we want to predict
    epsilons = (0.3, 1.35, 3.0) if fast else (0.1, 0.3, 1.0, 1.35, 3.0, 10.0)

    grid_search = search(X, y, epsilons, max_iter=300 if fast else 1000)
    rows = candidate_table(grid_search, X, y, X_test, y_test)
    best = grid_search.best_index_
    chosen = grid_search.best_params_["sgdregressor__loss"]

    print(f"{len(y)} training points, {is_outlier.sum()} of them outliers; "
          f"clean test set of {len(y_test)} points")
    print(f"{'candidate':<20} {'CV median AE':>13} {'CV MSE':>9} {'clean test R²':>14}")
    for row in rows:
        print(f"{loss_label(row['loss']):<20} {row['median_ae']:13.3f} {row['mse']:9.3f} "
              f"{row['test_r2']:14.3f}")
    by_mse = rows[int(np.argmin([row["mse"] for row in rows]))]
    print(f"chosen by CV median absolute error: {loss_label(chosen)}")
    print(f"(chosen by CV mean squared error on the same contaminated folds: "
          f"{loss_label(by_mse['loss'])})")
    squared_r2 = next(row["test_r2"] for row in rows if row["loss"] == "squared_error")
    chosen_r2 = float(r2_score(y_test, grid_search.predict(X_test)))
    print(f"clean test R²: chosen model {chosen_r2:.3f}, squared error {squared_r2:.3f}")

    fig = plot(X, y, is_outlier, rows, best)
    path = os.path.join(out_dir, "plot_robust_regression.png")
    fig.savefig(path, dpi=100)
    print(f"figure written to {path}")
    return dict(best_params=grid_search.best_params_, chosen_test_r2=chosen_r2,
                squared_error_test_r2=squared_r2, path=path,
                cv_median_ae={loss_label(row["loss"]): row["median_ae"] for row in rows})


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--fast", action="store_true",
                        help="less data, a smaller grid, fewer epochs (for the tests)")
    parser.add_argument("--out", default=None,
                        help="directory for the PNG (default: images/ next to this script)")
    args = parser.parse_args()
    main(fast=args.fast, out_dir=args.out)
