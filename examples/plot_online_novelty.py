"""Online novelty detection: Nystroem + SGDOneClassSVM by partial_fit on a stream
==============================================================================

The regular data are two Gaussian blobs in the plane; the novelties are drawn
uniformly around them. A kernel one-class SVM (``sklearn.svm.OneClassSVM``, RBF
kernel) needs all the data at once and its fit grows about quadratically with n. The
linear ``sklloss.SGDOneClassSVM`` on an explicit approximation of the same RBF
feature map (``sklearn.kernel_approximation.Nystroem``, fitted once on the first chunk)
learns from a stream instead: ``partial_fit`` one chunk at a time, a few passes over
the stream, in constant memory, and a fit that grows linearly with n. Both use the same
``nu`` and ``gamma``.

The figure has two panels:

1. The decision boundaries (``decision_function == 0``) of both models over the
   training rows, the regular test rows and the novelties, with each model's errors
   in the legend: the fraction of training rows outside its boundary (``nu`` bounds
   it), of regular test rows flagged as novelties, and of novelties accepted as
   regular. The two boundaries enclose the same two blobs.
2. Fit time against n of the kernel OneClassSVM and of the Nystroem +
   SGDOneClassSVM pipeline (sklloss's and scikit-learn's, same settings, the same
   random_state and so the same model), the median of a few fits, log-log.

The figure is written to plot_online_novelty.png in examples/images/, or in DIR with
--out DIR::

    python examples/plot_online_novelty.py
    python examples/plot_online_novelty.py --out DIR
    python examples/plot_online_novelty.py --fast   # smaller and quicker: what the tests run
"""
import argparse
import os
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import sklearn.linear_model  # noqa: E402
from sklearn.kernel_approximation import Nystroem  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.svm import OneClassSVM  # noqa: E402

import sklloss  # noqa: E402

NU = 0.05
GAMMA = 2.0


def blobs(n, rng):
    """n regular rows: two Gaussian blobs."""
    X = 0.3 * rng.standard_normal((n, 2))
    return np.where(rng.random((n, 1)) < 0.5, X + 2, X - 2)


def novelties(n, rng):
    return rng.uniform(-4, 4, (n, 2))


def stream_fit(one_class, X, chunk, passes, n_components, random_state=0):
    """Nystroem fitted on the first chunk, then one_class.partial_fit on each
    transformed chunk, `passes` times over the stream; the fitted pipeline."""
    feature_map = Nystroem(gamma=GAMMA, n_components=n_components,
                           random_state=random_state).fit(X[:chunk])
    for _ in range(passes):
        for start in range(0, X.shape[0], chunk):
            one_class.partial_fit(feature_map.transform(X[start:start + chunk]))
    return make_pipeline(feature_map, one_class)


def errors(model, X_train, X_test, X_novel):
    """Training rows outside, regular test rows flagged, novelties accepted."""
    return (float(np.mean(model.predict(X_train) == -1)),
            float(np.mean(model.predict(X_test) == -1)),
            float(np.mean(model.predict(X_novel) == 1)))


def median_seconds(fit, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fit()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--out", default=None,
                        help="directory for the figure (default: images/ next to this script)")
    parser.add_argument("--fast", action="store_true", help="smaller and quicker")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    n_train, chunk, passes = (2_000, 200, 5) if args.fast else (10_000, 500, 3)
    n_components = 100 if args.fast else 200
    X_train, X_test, X_novel = blobs(n_train, rng), blobs(1_000, rng), novelties(400, rng)

    online = stream_fit(sklloss.SGDOneClassSVM(nu=NU, random_state=0), X_train, chunk,
                        passes, n_components)
    kernel = OneClassSVM(nu=NU, gamma=GAMMA).fit(X_train)
    print(f"stream: {n_train // chunk} chunks of {chunk} rows, {passes} passes; "
          f"Nystroem with {n_components} components, nu={NU}, gamma={GAMMA}")
    results = {}
    for name, model in (("sklloss Nystroem + SGDOneClassSVM", online),
                        ("OneClassSVM (RBF kernel)", kernel)):
        results[name] = errors(model, X_train, X_test, X_novel)
        train, test, novel = results[name]
        print(f"{name}: training rows outside {train:.3f}, regular test rows flagged "
              f"{test:.3f}, novelties accepted {novel:.3f}")
    grid_x, grid_y = np.meshgrid(np.linspace(-4.5, 4.5, 200), np.linspace(-4.5, 4.5, 200))
    grid = np.c_[grid_x.ravel(), grid_y.ravel()]
    agree = np.mean((online.decision_function(grid) >= 0)
                    == (kernel.decision_function(grid) >= 0))
    print(f"the two models agree on {agree:.3f} of the plane [-4.5, 4.5]^2")

    sizes = [500, 1_000, 2_000] if args.fast else [2_000, 5_000, 10_000, 20_000, 50_000]
    timings = []
    for n in sizes:
        X_n = blobs(n, np.random.default_rng(n))
        # (the first chunk, which Nystroem samples its components from, holds enough)
        chunk_n = max(n // 20, n_components)
        repeats = 1 if args.fast or n > 10_000 else 3
        kernel_s = median_seconds(lambda: OneClassSVM(nu=NU, gamma=GAMMA).fit(X_n), repeats)
        ours_s = median_seconds(lambda: stream_fit(
            sklloss.SGDOneClassSVM(nu=NU, random_state=0), X_n, chunk_n, passes,
            n_components), repeats)
        theirs_s = median_seconds(lambda: stream_fit(
            sklearn.linear_model.SGDOneClassSVM(nu=NU, random_state=0), X_n, chunk_n,
            passes, n_components), repeats)
        timings.append((n, kernel_s, ours_s, theirs_s))
        print(f"fit time n={n}: OneClassSVM {kernel_s * 1e3:.1f} ms, sklloss pipeline "
              f"{ours_s * 1e3:.1f} ms, scikit-learn pipeline {theirs_s * 1e3:.1f} ms")

    fig, (ax, ax_time) = plt.subplots(1, 2, figsize=(12, 5.2))
    for model, color, name in ((online, "C0", "sklloss Nystroem + SGDOneClassSVM"),
                               (kernel, "C3", "OneClassSVM (RBF kernel)")):
        ax.contour(grid_x, grid_y, model.decision_function(grid).reshape(grid_x.shape),
                   levels=[0], colors=color, linewidths=2)
        train, test, novel = results[name]
        ax.plot([], [], color=color, lw=2, label=f"{name}: errors train {train:.3f}, "
                                                 f"test {test:.3f}, novel {novel:.3f}")
    ax.scatter(*X_train[:1000].T, s=4, c="0.6", label="training rows (1000 shown)")
    ax.scatter(*X_test[:200].T, s=10, c="green", label="regular test rows")
    ax.scatter(*X_novel.T, s=10, c="gold", edgecolors="k", linewidths=0.3,
               label="novelties")
    ax.set_xlim(-4.5, 4.5)
    ax.set_ylim(-4.5, 4.5)
    ax.set_title(f"Decision boundaries (nu={NU}, gamma={GAMMA}); they agree on "
                 f"{agree:.1%} of the plane", fontsize=10)
    ax.legend(loc="upper left", fontsize=7, framealpha=0.95)
    n_values = [row[0] for row in timings]
    for column, marker, color, name in (
            (1, "s-", "C3", "OneClassSVM (RBF kernel)"),
            (2, "o-", "C0", "sklloss Nystroem + SGDOneClassSVM, streamed"),
            (3, "^--", "C2", "scikit-learn Nystroem + SGDOneClassSVM, streamed")):
        ax_time.loglog(n_values, [row[column] for row in timings], marker, color=color,
                       label=name)
    ax_time.set_xticks(n_values)
    ax_time.set_xticklabels([f"{n:,}" for n in n_values])
    ax_time.minorticks_off()
    ax_time.set_xlabel("training rows n")
    ax_time.set_ylabel("fit time (s), median of repeats")
    ax_time.set_title(f"Fit time ({passes} passes over the stream, {n_components} "
                      "components)", fontsize=10)
    ax_time.grid(True, which="both", alpha=0.3)
    ax_time.legend(fontsize=8)
    fig.tight_layout()
    out_dir = args.out or os.path.join(os.path.dirname(os.path.abspath(__file__)), "images")
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, "plot_online_novelty.png")
    fig.savefig(path, dpi=100)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
