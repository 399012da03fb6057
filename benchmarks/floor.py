"""How close a single-output SGD epoch is to the memory floor of its shuffled rows.

A shuffled epoch visits the rows in a random order, so every row is a cache miss and
no epoch can be faster than reading every row of X once in such an order. This
benchmark times, in the same run and on the same data:

- the floor: one pass over X that reads every row in a shuffled order with the
  epoch's own prefetching and does nothing else (``sklloss.linear_model._engine.
  read_rows``: the same prefetch code the epoch runs), dense and CSR;
- sklloss's epoch with ``n_jobs=1`` and ``n_jobs=2``, and scikit-learn's: (time of a
  fit of 1 + E epochs - time of a fit of 1 epoch) / E, ``tol=None``, the estimators'
  defaults otherwise (hinge and log_loss: 'optimal' steps; squared_error:
  'invscaling');

and reports each epoch as a multiple of the floor, medians of --repeats alternating
runs. Shapes: dense d in {10, 32, 100, 256, 1000} with n such that X (float64) is
80-400 MB, beyond the 32 MB L3 of this machine; CSR rows of 10, 60 and 300 non-zeros
among 2^18 features.

    python benchmarks/floor.py            # full: table + plot in benchmarks/results/
    python benchmarks/floor.py --quick    # small shapes, 2 repeats (a smoke run)
"""
import argparse
import datetime
import os
import platform
import statistics
import time
import warnings

import numpy as np
import scipy.sparse as sp
import sklearn
import sklearn.linear_model as sk
from sklearn.exceptions import ConvergenceWarning

import sklloss
from sklloss.linear_model import _engine

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
PAUSE = 0.1  # seconds between runs (let idle OpenMP threads stop spinning)
DENSE = [(1_000_000, 10), (400_000, 32), (200_000, 100), (150_000, 256), (50_000, 1000)]
SPARSE = [(1_000_000, 10), (200_000, 60), (40_000, 300)]
SPARSE_D = 2 ** 18
LOSSES = {"hinge": "binary", "log_loss": "binary", "squared_error": "regression"}


def dense_data(n, d, task, dtype, rng):
    X = rng.standard_normal((n, d)).astype(dtype)
    score = X @ (rng.standard_normal(d) / np.sqrt(d)).astype(dtype)
    noisy = score + 0.1 * rng.standard_normal(n)
    return X, (noisy if task == "regression" else (noisy > 0).astype(np.int64))


def sparse_data(n, nnz, task, dtype, rng):
    indices = np.sort(rng.integers(0, SPARSE_D, (n, nnz)), axis=1).astype(np.int32)
    X = sp.csr_matrix((rng.standard_normal(n * nnz).astype(dtype), indices.ravel(),
                       np.arange(0, n * nnz + 1, nnz)), shape=(n, SPARSE_D))
    X.sum_duplicates()
    noisy = X @ rng.standard_normal(SPARSE_D) + 0.1 * rng.standard_normal(n)
    return X, (noisy if task == "regression" else (noisy > 0).astype(np.int64))


def engine_arrays(X):
    """X as the engine takes it: (data, indices, indptr, sparse, n_features)."""
    if sp.issparse(X):
        return X.data, X.indices, X.indptr, True, X.shape[1]
    empty = np.empty(0, dtype=np.int32)
    return X.ravel(), empty, empty, False, X.shape[1]


def floor_seconds(X, rng):
    """One shuffled read of every row with the epoch's prefetching (a fresh order)."""
    order = rng.permutation(X.shape[0]).astype(np.intp)
    start = time.perf_counter()
    _engine.read_rows(*engine_arrays(X), order)
    return time.perf_counter() - start


def fit_seconds(make, epochs, X, y):
    estimator = make(epochs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        estimator.fit(X, y)
        return time.perf_counter() - start


def epoch_seconds(make, X, y, epochs):
    one = fit_seconds(make, 1, X, y)
    time.sleep(PAUSE)
    many = fit_seconds(make, 1 + epochs, X, y)
    time.sleep(PAUSE)
    return max(many - one, 1e-9) / epochs


def makers(loss, task):
    params = dict(loss=loss, tol=None, random_state=0)
    ours = sklloss.SGDRegressor if task == "regression" else sklloss.SGDClassifier
    theirs = sk.SGDRegressor if task == "regression" else sk.SGDClassifier
    candidates = {"n_jobs=1": lambda e: ours(max_iter=e, **params)}
    if "n_jobs" in ours().get_params():
        candidates["n_jobs=2"] = lambda e: ours(max_iter=e, n_jobs=2, **params)
    candidates["scikit-learn"] = lambda e: theirs(max_iter=e, **params)
    return candidates


def measure(case, X, y, loss, task, repeats, epochs, rng, with_sklearn):
    runs = {"floor": []}
    candidates = makers(loss, task)
    if not with_sklearn:
        candidates.pop("scikit-learn")
    for name in candidates:
        runs[name] = []
    for _ in range(repeats):
        runs["floor"].append(floor_seconds(X, rng))
        for name, make in candidates.items():
            runs[name].append(epoch_seconds(make, X, y, epochs))
    row = {name: statistics.median(times) * 1e3 for name, times in runs.items()}
    row["case"] = case
    return row


def cases(quick):
    scale = 20 if quick else 1
    for dtype in (np.float64, np.float32):
        for n, d in DENSE:
            for loss, task in LOSSES.items():
                yield ("dense", n // scale, d, loss, task, dtype)
    for dtype in (np.float64, np.float32):
        for n, nnz in SPARSE:
            yield ("csr", n // scale, nnz, "log_loss", "binary", dtype)


HEADER = ("| X | loss | dtype | floor ms | sklloss n_jobs=1 ms | × floor | n_jobs=2 ms "
          "| × floor | n_jobs=2 / n_jobs=1 | scikit-learn ms | × floor | sklloss / scikit-learn |\n"
          "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")


def format_row(r):
    floor, one, two = r["floor"], r["n_jobs=1"], r.get("n_jobs=2", float("nan"))
    sk_ms = r.get("scikit-learn")
    sk_cells = (f"{sk_ms:.1f} | {sk_ms / floor:.2f} | {one / sk_ms:.2f}" if sk_ms
                else "– | – | –")
    return (f"| {r['shape']} | {r['loss']} | {r['dtype']} | {floor:.1f} | {one:.1f} | "
            f"**{one / floor:.2f}** | {two:.1f} | {two / floor:.2f} | **{two / one:.2f}** | "
            f"{sk_cells} |")


def plot(rows, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
    for ax, dtype in zip(axes, ("float64", "float32")):
        for loss, marker in zip(LOSSES, "osD"):
            points = [r for r in rows if r["kind"] == "dense" and r["loss"] == loss
                      and r["dtype"] == dtype]
            d = [r["width"] for r in points]
            ax.semilogx(d, [r["n_jobs=1"] / r["floor"] for r in points], marker + "-",
                        label=f"{loss}, n_jobs=1")
            ax.semilogx(d, [r.get("n_jobs=2", np.nan) / r["floor"] for r in points], marker + ":",
                        label=f"{loss}, n_jobs=2")
            if all("scikit-learn" in r for r in points):
                ax.semilogx(d, [r["scikit-learn"] / r["floor"] for r in points],
                            marker + "--", color="grey", alpha=0.5,
                            label=f"scikit-learn {loss}")
        ax.axhline(1.0, color="black", lw=0.8)
        ax.axhline(1.5, color="black", lw=0.8, ls="--")
        ax.set_xticks([n for n in sorted({r["width"] for r in rows if r["kind"] == "dense"})])
        ax.set_xticklabels([str(n) for n in sorted({r["width"] for r in rows
                                                    if r["kind"] == "dense"})])
        ax.set_xlabel("features d (dense, shuffled rows)")
        ax.set_title(dtype)
        ax.grid(True, alpha=0.3)
    axes[0].set_ylabel("epoch time / shuffled-read floor")
    axes[0].set_yscale("log")
    axes[1].legend(fontsize=7, ncol=2)
    fig.suptitle("A single-output SGD epoch against the floor of reading its rows")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small shapes, 2 repeats")
    parser.add_argument("--repeats", type=int, default=None, help="default 5 (quick: 2)")
    parser.add_argument("--epochs", type=int, default=5, help="epochs timed per fit")
    parser.add_argument("--no-sklearn", action="store_true",
                        help="skip scikit-learn's epochs (faster)")
    parser.add_argument("--out", default=RESULTS, help="directory for the table and plot")
    parser.add_argument("--no-save", action="store_true", help="print only")
    args = parser.parse_args(argv)
    repeats = args.repeats or (2 if args.quick else 5)
    rng = np.random.default_rng(0)
    print(f"sklloss {sklloss.__version__}, scikit-learn {sklearn.__version__}; medians of "
          f"{repeats} alternating runs, {args.epochs} epochs timed\n")
    print(HEADER, flush=True)
    rows = []
    for kind, n, width, loss, task, dtype in cases(args.quick):
        if kind == "dense":
            X, y = dense_data(n, width, task, dtype, rng)
            shape = f"dense {n // 1000}k×{width}"
        else:
            X, y = sparse_data(n, width, task, dtype, rng)
            shape = f"CSR {n // 1000}k×2^18, {width} nnz"
        row = measure(shape, X, y, loss, task, repeats, args.epochs, rng,
                      not args.no_sklearn)
        row.update(kind=kind, shape=shape, width=width, loss=loss,
                   dtype=np.dtype(dtype).name)
        rows.append(row)
        print(format_row(row), flush=True)
        del X, y
    if args.no_save:
        return rows
    os.makedirs(args.out, exist_ok=True)
    name = "floor_quick" if args.quick else "floor"
    with open(os.path.join(args.out, f"{name}.md"), "w") as f:
        f.write("# A single-output SGD epoch against its shuffled-read floor\n\n")
        f.write(HEADER + "\n" + "\n".join(format_row(r) for r in rows) + "\n\n")
        f.write(f"floor: one read of every row of X in a shuffled order with the epoch's "
                f"prefetching; epochs: (fit of 1 + {args.epochs} epochs − fit of 1) / "
                f"{args.epochs}, tol=None, defaults otherwise; medians of {repeats} "
                f"alternating runs.\n{datetime.date.today()}, {platform.processor() or 'x86-64'}, "
                f"{os.cpu_count()} CPUs, Python {platform.python_version()}, numpy "
                f"{np.__version__}, scikit-learn {sklearn.__version__}, sklloss "
                f"{sklloss.__version__}.\nCommand: `python benchmarks/floor.py"
                f"{' --quick' if args.quick else ''}`\n")
    plot(rows, os.path.join(args.out, f"{name}.png"))
    print(f"\nwrote {os.path.join(args.out, name + '.md')} and {name}.png")
    return rows


if __name__ == "__main__":
    main()
