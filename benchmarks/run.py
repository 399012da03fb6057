"""sklloss's SGD estimators against scikit-learn's, side by side in one process.

    python benchmarks/run.py            # full suite: table + plots in benchmarks/results/
    python benchmarks/run.py --quick    # small version (under 2 minutes), same outputs

Every case fits both libraries on the same data with the same hyperparameters and a
fixed number of epochs (``tol=None``), alternating the libraries, and reports medians
over the repeats:

- per-epoch time: (time of a fit of 1 + E epochs - time of a fit of 1 epoch) / E, so the
  validation and set-up costs that do not grow with the epochs are left out;
- the ratio sklloss / scikit-learn (below 1: sklloss is faster);
- memory passes: per-epoch time / the time of one read of X (``X @ w``);
- test quality of both (accuracy or R² on held-out rows; for the one-class SVM, the
  fraction of held-out rows of the training distribution it accepts as inliers);
- peak memory allocated during a fit (``tracemalloc``, which sees numpy's buffers),
  as a percentage of X's size.

Timings on a shared machine move by tens of percent between runs; compare ratios
measured in the same run, never absolute times across runs.
"""
import argparse
import os
import time
import tracemalloc
import warnings

import numpy as np
import scipy.sparse as sp
import sklearn
import sklearn.linear_model as sk
from sklearn.exceptions import ConvergenceWarning

import sklloss

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
PAUSE = 0.2  # seconds between the two libraries' runs (let OpenMP threads go idle)


# -- data ------------------------------------------------------------------------------
def dense_data(n, d, task, n_classes=2, dtype=np.float64, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, d)).astype(dtype)
    w = rng.normal(size=d) / np.sqrt(d)
    score = X @ w
    if task == "regression":
        y = score + 0.1 * rng.normal(size=n)
    elif n_classes == 2:
        y = (score + 0.1 * rng.normal(size=n) > 0).astype(np.int64)
    else:
        # K classes by the nearest of K random directions (a linear K-class problem)
        centres = rng.normal(size=(n_classes, d))
        y = np.argmax(X @ centres.T + 0.5 * rng.normal(size=(n, n_classes)), axis=1)
    return X, y


def sparse_data(n, d, nnz_per_row, dtype=np.float64, seed=0):
    rng = np.random.RandomState(seed)
    indices = rng.randint(0, d, size=n * nnz_per_row).astype(np.int32)
    indptr = np.arange(0, n * nnz_per_row + 1, nnz_per_row)
    X = sp.csr_matrix((rng.normal(size=n * nnz_per_row).astype(dtype), indices, indptr),
                      shape=(n, d))
    X.sum_duplicates()
    y = (X @ rng.normal(size=d) > 0).astype(np.int64)
    return X, y


def nbytes(X):
    if sp.issparse(X):
        return X.data.nbytes + X.indices.nbytes + X.indptr.nbytes
    return X.nbytes


# -- measurements ----------------------------------------------------------------------
def fit_seconds(estimator, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        estimator.fit(X, y)
        return time.perf_counter() - start


def read_seconds(X, repeats):
    w = np.ones(X.shape[1], dtype=X.dtype)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        X @ w
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def peak_fit_bytes(make, X, y):
    estimator = make(1)
    tracemalloc.start()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            estimator.fit(X, y)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def compare(case, make_ours, make_theirs, X, y, X_test, y_test, epochs, repeats):
    """Alternating runs of both libraries; medians of per-epoch time."""
    per_epoch = {"sklloss": [], "scikit-learn": []}
    makers = {"sklloss": make_ours, "scikit-learn": make_theirs}
    fitted = {}
    for _ in range(repeats):
        for library, make in makers.items():
            one = fit_seconds(make(1), X, y)
            time.sleep(PAUSE)
            fitted[library] = make(1 + epochs)  # (the same random_state every time)
            many = fit_seconds(fitted[library], X, y)
            time.sleep(PAUSE)
            per_epoch[library].append(max(many - one, 1e-9) / epochs)
    ours = float(np.median(per_epoch["sklloss"]))
    theirs = float(np.median(per_epoch["scikit-learn"]))
    read = read_seconds(X, repeats)
    scores = {library: _test_score(model, X_test, y_test) for library, model in fitted.items()}
    peaks = {library: peak_fit_bytes(make, X, y) for library, make in makers.items()}
    return {
        "case": case, "ours_ms": ours * 1e3, "theirs_ms": theirs * 1e3,
        "ratio": ours / theirs, "ours_passes": ours / read, "theirs_passes": theirs / read,
        "ours_score": scores["sklloss"], "theirs_score": scores["scikit-learn"],
        "ours_peak": peaks["sklloss"] / nbytes(X), "theirs_peak": peaks["scikit-learn"] / nbytes(X),
    }


def _test_score(model, X_test, y_test):
    """The estimator's score; for an outlier detector (no score method), the fraction
    of the held-out rows (drawn like the training rows) predicted inliers."""
    if hasattr(model, "score"):
        return model.score(X_test, y_test)
    return float(np.mean(model.predict(X_test) == 1))


def _split(X, y, n_test):
    return X[:-n_test], y[:-n_test], X[-n_test:], y[-n_test:]


def _pair(ours, theirs, **params):
    common = dict(tol=None, random_state=0, **params)
    return (lambda e: ours(max_iter=e, **common)), (lambda e: theirs(max_iter=e, **common))


# -- the suite -------------------------------------------------------------------------
def workloads(quick):
    """(name, data factory, estimator pairs) for W1..W5."""
    scale = 10 if quick else 1
    n_dense, n_multi, n_sparse = 200_000 // scale, 100_000 // scale, 200_000 // scale
    sparse_d = 2 ** 16 if quick else 2 ** 18
    cases = []
    for dtype in (np.float64, np.float32):
        tag = "f64" if dtype == np.float64 else "f32"
        for loss in ("squared_error", "huber"):
            cases.append((f"W1 dense {n_dense // 1000}k×100 {loss} {tag}",
                          lambda dtype=dtype: dense_data(n_dense + 10_000, 100,
                                                         "regression", dtype=dtype),
                          _pair(sklloss.SGDRegressor, sk.SGDRegressor, loss=loss)))
        for loss in ("hinge", "log_loss"):
            cases.append((f"W2 dense {n_dense // 1000}k×100 {loss} {tag}",
                          lambda dtype=dtype: dense_data(n_dense + 10_000, 100, "binary",
                                                         dtype=dtype),
                          _pair(sklloss.SGDClassifier, sk.SGDClassifier, loss=loss)))
        cases.append((f"W3 CSR {n_sparse // 1000}k×2^{int(np.log2(sparse_d))} "
                      f"60 nnz log_loss {tag}",
                      lambda dtype=dtype: sparse_data(n_sparse + 10_000, sparse_d, 60,
                                                      dtype=dtype),
                      _pair(sklloss.SGDClassifier, sk.SGDClassifier, loss="log_loss")))
        for n_jobs in (1, 2):
            cases.append((f"W4 dense {n_multi // 1000}k×100 10-class hinge n_jobs={n_jobs} {tag}",
                          lambda dtype=dtype: dense_data(n_multi + 10_000, 100, "multi",
                                                         n_classes=10, dtype=dtype),
                          _pair(sklloss.SGDClassifier, sk.SGDClassifier, n_jobs=n_jobs)))
        # the one-class SVM (defaults: nu=0.5, 'optimal' steps), dense and CSR
        cases.append((f"W5 dense {n_dense // 1000}k×100 one-class SVM {tag}",
                      lambda dtype=dtype: dense_data(n_dense + 10_000, 100, "binary",
                                                     dtype=dtype),
                      _pair(sklloss.SGDOneClassSVM, sk.SGDOneClassSVM)))
        cases.append((f"W5 CSR {n_sparse // 1000}k×2^{int(np.log2(sparse_d))} "
                      f"60 nnz one-class SVM {tag}",
                      lambda dtype=dtype: sparse_data(n_sparse + 10_000, sparse_d, 60,
                                                      dtype=dtype),
                      _pair(sklloss.SGDOneClassSVM, sk.SGDOneClassSVM)))
    return cases


def run_workloads(quick, repeats, epochs):
    rows = []
    for name, data, (make_ours, make_theirs) in workloads(quick):
        X, y = data()
        rows.append(compare(name, make_ours, make_theirs, *_split(X, y, 10_000), epochs,
                            repeats))
        print(_row(rows[-1]), flush=True)
    return rows


def run_scaling(quick, repeats, epochs):
    """Per-epoch time against n, d and K (dense hinge, float64)."""
    if quick:
        grid = {"n": [5_000, 20_000], "d": [10, 100], "K": [2, 8]}
    else:
        grid = {"n": [10_000, 30_000, 100_000, 300_000, 1_000_000],
                "d": [10, 30, 100, 300, 1000], "K": [2, 4, 8, 16, 32, 64]}
    curves = {}
    for axis, values in grid.items():
        curves[axis] = []
        for value in values:
            n, d, K = {"n": (value, 100, 2), "d": (100_000 // (10 if quick else 1), value, 2),
                       "K": (50_000 // (10 if quick else 1), 100, value)}[axis]
            X, y = dense_data(n + 2_000, d, "binary" if K == 2 else "multi", n_classes=K)
            result = compare(f"{axis}={value}",
                             *_pair(sklloss.SGDClassifier, sk.SGDClassifier),
                             *_split(X, y, 2_000), epochs, repeats)
            curves[axis].append((value, result["ours_ms"], result["theirs_ms"]))
            print(f"  scaling {axis}={value}: sklloss {result['ours_ms']:.2f} ms, "
                  f"scikit-learn {result['theirs_ms']:.2f} ms per epoch", flush=True)
    return curves


# -- output ----------------------------------------------------------------------------
HEADER = ("| workload | sklloss ms/epoch | scikit-learn ms/epoch | ratio | passes (ours / sk) "
          "| test score (ours / sk) | peak memory % of X (ours / sk) |\n"
          "|---|---:|---:|---:|---:|---:|---:|")


def _row(r):
    return (f"| {r['case']} | {r['ours_ms']:.1f} | {r['theirs_ms']:.1f} | {r['ratio']:.2f} | "
            f"{r['ours_passes']:.1f} / {r['theirs_passes']:.1f} | "
            f"{r['ours_score']:.4f} / {r['theirs_score']:.4f} | "
            f"{100 * r['ours_peak']:.1f} / {100 * r['theirs_peak']:.1f} |")


def plot(curves, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = {"n": "rows n (d = 100, binary)", "d": "features d (n = 100,000, binary)",
              "K": "classes K (d = 100, one-vs-rest)"}
    fig, axes = plt.subplots(1, len(curves), figsize=(5 * len(curves), 4))
    for ax, (axis, points) in zip(np.atleast_1d(axes), curves.items()):
        values, ours, theirs = zip(*points)
        ax.loglog(values, theirs, "o-", label="scikit-learn")
        ax.loglog(values, ours, "s-", label="sklloss")
        ax.minorticks_off()
        ax.set_xticks(values)
        ax.set_xticklabels([f"{v:,}" for v in values], rotation=30)
        ax.set_xlabel(labels[axis])
        ax.set_ylabel("ms per epoch (dense hinge, float64)")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
    fig.suptitle("SGD epoch time: sklloss vs scikit-learn")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small data, 3 repeats")
    parser.add_argument("--repeats", type=int, default=None, help="default 5 (quick: 3)")
    parser.add_argument("--epochs", type=int, default=None, help="default 5 (quick: 2)")
    parser.add_argument("--out", default=RESULTS, help="directory for the table and plot")
    args = parser.parse_args(argv)
    repeats = args.repeats or (3 if args.quick else 5)
    epochs = args.epochs or (2 if args.quick else 5)
    print(f"sklloss {sklloss.__version__} vs scikit-learn {sklearn.__version__}; "
          f"medians of {repeats} alternating runs, {epochs} epochs timed\n")
    print(HEADER, flush=True)
    rows = run_workloads(args.quick, repeats, epochs)
    curves = run_scaling(args.quick, repeats, epochs)
    os.makedirs(args.out, exist_ok=True)
    name = "sgd_quick" if args.quick else "sgd"
    with open(os.path.join(args.out, f"{name}.md"), "w") as f:
        f.write(f"Made by `python benchmarks/run.py{' --quick' if args.quick else ''}` "
                f"(sklloss {sklloss.__version__}, scikit-learn {sklearn.__version__}, "
                f"{os.cpu_count()} CPUs; medians of {repeats} alternating runs).\n\n")
        f.write(HEADER + "\n" + "\n".join(_row(r) for r in rows) + "\n")
    plot(curves, os.path.join(args.out, f"{name}_scaling.png"))
    print(f"\nwrote {os.path.join(args.out, name + '.md')} and {name}_scaling.png")


if __name__ == "__main__":
    main()
