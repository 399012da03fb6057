"""One-vs-rest against multinomial logistic regression, a class between two others
===============================================================================

Three Gaussian classes in 2-D, A, B and C, centred on one line with B in the middle and
smaller (300, 120 and 300 points, standard deviation 0.8 around (-2, -1), (0, 0) and
(2, 1)). Half of the points train, half are held out. Two ``sklloss.SGDClassifier``
with the same settings (after a ``StandardScaler``) are fitted:

- ``loss="log_loss"``: one-vs-rest, one binary logistic model per class; predict_proba
  normalises their three sigmoids to sum to 1.
- ``loss="multinomial_log_loss"``: one softmax model, trained jointly on the
  categorical cross-entropy; predict_proba is the softmax of decision_function.

One-vs-rest fails here for a reason that is not SGD's: "B against the rest" is not a
linear problem (the rest lies on both sides of B), so the best *linear* logistic model
for it is almost flat at B's share of the data (17%): its sigmoid stays within a few
percent of that over all the data (printed below, and drawn dotted in the right-hand
profile). B then wins the normalised argmax only in the narrow band where both outer
models fall below that level, and many B points are given to A or C. The softmax model
needs no linear "B against the rest": B wins wherever its score beats A's and C's,
each comparison being linear, so B gets the band between two parallel boundaries. The
held-out log loss shows the gap even more than the accuracy does, because the one-vs-
rest probabilities are wrong even where its argmax is right. (With a middle class as
large as the others, one-vs-rest's argmax fails less often, and the log-loss gap
remains.)

The settings are those of a fixed, reproducible run: alpha = 1e-3, a fixed number of
epochs (tol=None) and random_state=0; with the default alpha = 1e-4, both models' steps
are larger and noisier from one random_state to the next on so few points.

Each row of the figure is one model: the decision regions, shaded by the largest
predicted probability, with the held-out points; the probability of the middle class
B, with its 0.5 contour; the probabilities along the line through the three centres.

The figure is written to plot_multinomial.png in examples/images/, or in DIR with --out DIR::

    python examples/plot_multinomial.py
    python examples/plot_multinomial.py --out DIR
    python examples/plot_multinomial.py --fast   # smaller and quicker: what the tests run
"""
import argparse
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.colors import to_rgb  # noqa: E402
from scipy.special import expit  # noqa: E402
from sklearn.datasets import make_blobs  # noqa: E402
from sklearn.metrics import accuracy_score, log_loss, recall_score  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

import sklloss  # noqa: E402

CLASSES = ("A", "B", "C")
CENTERS = ((-2.0, -1.0), (0.0, 0.0), (2.0, 1.0))  # B in the middle
SIZES = (300, 120, 300)
CLUSTER_STD = 0.8
COLORS = ("tab:blue", "tab:orange", "tab:green")
SETTINGS = dict(alpha=1e-3, max_iter=100, tol=None, random_state=0)
MODELS = {
    "one-vs-rest": "log_loss",
    "multinomial": "multinomial_log_loss",
}
LIMITS = (-4.5, 4.5, -3.5, 3.5)  # x min, x max, y min, y max of the maps


def make_data():
    X, y = make_blobs(list(SIZES), centers=CENTERS, cluster_std=CLUSTER_STD, random_state=0)
    return train_test_split(X, y, test_size=0.5, random_state=0, stratify=y)


def fit_models(X_train, y_train):
    return {name: make_pipeline(StandardScaler(),
                                sklloss.SGDClassifier(loss=loss, **SETTINGS)).fit(X_train, y_train)
            for name, loss in MODELS.items()}


def scores(model, X_test, y_test):
    predicted = model.predict(X_test)
    return dict(log_loss=log_loss(y_test, model.predict_proba(X_test)),
                accuracy=accuracy_score(y_test, predicted),
                recall=recall_score(y_test, predicted, average=None))


def confidence_image(probabilities):
    """RGB image: the predicted class's colour, from white (max probability 1/3) to a
    pale version of its colour (max probability 1), pale so that the points show."""
    colors = np.array([to_rgb(color) for color in COLORS])
    predicted = np.argmax(probabilities, axis=-1)
    strength = 0.6 * (probabilities.max(axis=-1) - 1 / 3) / (2 / 3)
    return 1 - strength[..., None] * (1 - colors[predicted])


def line_through_centers(n_points):
    """Points on the line through the centres, and their position along it (0 at B)."""
    direction = np.subtract(CENTERS[2], CENTERS[0])
    direction = direction / np.linalg.norm(direction)
    position = np.linspace(-4.0, 4.0, n_points)
    return position, np.asarray(CENTERS[1]) + position[:, None] * direction


def plot(models, results, X_test, y_test, n_grid):
    xx, yy = np.meshgrid(np.linspace(LIMITS[0], LIMITS[1], n_grid),
                         np.linspace(LIMITS[2], LIMITS[3], n_grid))
    grid = np.column_stack([xx.ravel(), yy.ravel()])
    position, line = line_through_centers(n_grid)
    fig, axes = plt.subplots(2, 3, figsize=(17, 10.4),
                             gridspec_kw=dict(width_ratios=[1, 1.2, 1.05]))
    for row, (name, model) in zip(axes, models.items()):
        ax_regions, ax_middle, ax_line = row
        probabilities = model.predict_proba(grid).reshape(n_grid, n_grid, len(CLASSES))
        result = results[name]

        ax_regions.imshow(confidence_image(probabilities), extent=LIMITS, origin="lower",
                          aspect="auto", interpolation="bilinear")
        ax_regions.contour(xx, yy, np.argmax(probabilities, axis=-1), levels=[0.5, 1.5],
                           colors="black", linewidths=1)
        ax_regions.set_title(
            f"{name} (loss='{MODELS[name]}')\nheld-out log loss {result['log_loss']:.3f}, "
            f"accuracy {result['accuracy']:.3f}, recall of B {result['recall'][1]:.2f}")

        image = ax_middle.contourf(xx, yy, probabilities[..., 1], levels=np.linspace(0, 1, 11),
                                   cmap="Greys", vmin=0, vmax=1.4)
        ax_middle.contour(xx, yy, probabilities[..., 1], levels=[0.5], colors="black",
                          linewidths=1.5)
        fig.colorbar(image, ax=ax_middle, label="predict_proba, class B")
        ax_middle.set_title(f"{name}: probability of the middle class B\n"
                            f"(black: P(B) = 0.5; max over the map "
                            f"{probabilities[..., 1].max():.2f})")

        for ax in (ax_regions, ax_middle):
            for k, (label, color) in enumerate(zip(CLASSES, COLORS)):
                ax.scatter(*X_test[y_test == k].T, s=12, color=color, edgecolor="black",
                           linewidth=0.3, label=f"{label} (held out)")
            ax.plot(*line.T, color="0.3", linestyle="--", linewidth=0.8)
            ax.set_xlim(LIMITS[:2])
            ax.set_ylim(LIMITS[2:])
            ax.set_xlabel("x₁")
            ax.set_ylabel("x₂")
        ax_regions.legend(loc="upper left", fontsize="small", framealpha=0.9)

        line_probabilities = model.predict_proba(line)
        for k, (label, color) in enumerate(zip(CLASSES, COLORS)):
            ax_line.plot(position, line_probabilities[:, k], color=color, linewidth=2.2,
                         label=f"P({label}), predict_proba")
        if MODELS[name] == "log_loss":
            # the one-vs-rest models before predict_proba normalises them
            sigmoids = expit(model.decision_function(line))
            for k, (label, color) in enumerate(zip(CLASSES, COLORS)):
                ax_line.plot(position, sigmoids[:, k], color=color, linestyle=":",
                             linewidth=1.8, label=f"σ({label} vs rest), before normalising")
        for k, color in enumerate(COLORS):
            along = (np.asarray(CENTERS[k]) - CENTERS[1]) @ (line[-1] - line[0])
            ax_line.axvline(along / np.linalg.norm(line[-1] - line[0]), color=color,
                            linewidth=0.8, alpha=0.6)
        ax_line.set_ylim(-0.02, 1.38)  # room for the legend above the curves
        ax_line.set_yticks(np.linspace(0, 1, 6))
        ax_line.set_xlim(position[0], position[-1])
        ax_line.set_xlabel("position along the dashed line (centres: vertical lines)")
        ax_line.set_ylabel("probability")
        ax_line.set_title(f"{name}: along the line through the centres")
        ax_line.legend(loc="upper center", fontsize="small", ncol=2 if len(
            ax_line.get_lines()) > 6 else 1, framealpha=0.9)
        ax_line.grid(True, alpha=0.3)
    fig.tight_layout()
    return fig


def main(fast=False, out_dir=None):
    """Fit both models, draw the figure; return their held-out scores."""
    if out_dir is None:
        out_dir = os.path.join(os.path.dirname(os.path.abspath(__file__)), "images")
    os.makedirs(out_dir, exist_ok=True)
    X_train, X_test, y_train, y_test = make_data()
    models = fit_models(X_train, y_train)
    results = {name: scores(model, X_test, y_test) for name, model in models.items()}

    print(f"{len(y_train)} training and {len(y_test)} held-out points; points per class "
          f"{', '.join(f'{c}: {n}' for c, n in zip(CLASSES, SIZES))} (B in the middle)")
    for name, result in results.items():
        recall = ", ".join(f"{c} {r:.2f}" for c, r in zip(CLASSES, result["recall"]))
        print(f"{name:<12} (loss={MODELS[name]!r}): held-out log loss "
              f"{result['log_loss']:.4f}, accuracy {result['accuracy']:.4f}; "
              f"recall {recall}")
    sigmoid = expit(models["one-vs-rest"].decision_function(np.vstack([X_train, X_test])))
    print(f"one-vs-rest 'B vs rest' sigmoid over all the points: "
          f"{sigmoid[:, 1].min():.3f} to {sigmoid[:, 1].max():.3f} "
          f"(share of B: {SIZES[1] / sum(SIZES):.3f})")

    fig = plot(models, results, X_test, y_test, n_grid=150 if fast else 400)
    path = os.path.join(out_dir, "plot_multinomial.png")
    fig.savefig(path, dpi=100)
    print(f"figure written to {path}")
    return dict(results=results, path=path)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--fast", action="store_true", help="coarser grid (for the tests)")
    parser.add_argument("--out", default=None,
                        help="directory for the PNG (default: images/ next to this script)")
    args = parser.parse_args()
    main(fast=args.fast, out_dir=args.out)
