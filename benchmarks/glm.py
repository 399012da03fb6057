"""Poisson and quantile regression by SGD at scale, against scikit-learn's exact solvers.

    python benchmarks/glm.py            # n = 10^4, 10^5, 10^6 (about 5 minutes)
    python benchmarks/glm.py --quick    # small sizes, one repeat (seconds; the tests)

Two models, each on synthetic data whose true model is known:

- Poisson regression, d = 50 standardised features, counts of mean about 2 from a
  log-linear model; sklloss ``SGDRegressor(loss="poisson")`` against
  ``PoissonRegressor`` (L-BFGS), both at alpha = 1e-4 (the same objective: see
  tests/test_sgd_glm.py).
- Quantile regression of the 0.9-quantile, d = 20 features (one of them uniform on
  [0, 1], which scales heavy-tailed t(3) noise: the true quantile is linear in the
  features, and differs from the mean model by more than a shift); sklloss
  ``SGDRegressor(loss=Quantile(0.9), penalty="l1", learning_rate="adagrad")`` against
  ``QuantileRegressor``
  (HiGHS, a linear program), both at alpha = 1e-4.

For each n (training rows; 20,000 held-out rows):

- the reference: the held-out loss (mean Poisson deviance, mean pinball loss) of the
  exact solution: ``PoissonRegressor(tol=1e-10)``; ``QuantileRegressor`` where it can
  run (up to 3·10^4 rows: about a minute there, its time grows like n^2), and beyond
  that the true quantile function, the population optimum, whose held-out loss is at
  most the exact solver's (so within 1% of it is within 1% of the exact solver's too);
  the reference's ratio to the truth's loss is printed;
- scikit-learn: its estimator's default fit (tol 1e-4 for L-BFGS), wall time, the
  held-out loss as a ratio to the reference, tracemalloc peak of the fit;
- sklloss, time to 1%: the shortest ``fit`` (the schedule above, ``tol=None``,
  ``max_iter`` = 1, 2, 3, 5, 8, ..., or the default stopping rule's fit, marked
  "(tol)") whose held-out loss is within 1% of the reference,
  its epochs and tracemalloc peak; and sklloss's fit with the default stopping rule
  (``tol=1e-3``);
- streamed (largest n): the same data written to .npy files and read back as memory
  maps, in chunks of 50,000 rows, through ``partial_fit``, pass after pass until
  within 1%: the passes, the time, and the tracemalloc peak (the chunk's copy and the
  model: flat in n).

Times are medians over ``--repeats`` runs, sklloss and scikit-learn interleaved;
compare the ratios of one run, never absolute times across runs. Writes
benchmarks/results/glm.md.
"""
import argparse
import os
import shutil
import tempfile
import time
import tracemalloc
import warnings

import numpy as np
from scipy import stats
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import PoissonRegressor, QuantileRegressor
from sklearn.metrics import mean_pinball_loss, mean_poisson_deviance

from sklloss import SGDRegressor
from sklloss.losses import Quantile

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
ALPHA = 1e-4
Q = 0.9
N_TEST = 20_000
CHUNK = 50_000
EPOCH_STEPS = (1, 2, 3, 5, 8, 13, 21, 34, 55)
QUANTILE_REGRESSOR_MAX_ROWS = 30_000  # beyond, HiGHS takes minutes (n^2 growth)


# -- data --------------------------------------------------------------------------------
def true_coef(d):
    """The true model's coefficients, the same for training and held-out rows."""
    return np.random.default_rng(2024).standard_normal(d) / np.sqrt(d)


def poisson_data(n, seed, d=50):
    rng = np.random.default_rng(seed)
    w = true_coef(d)  # log-means of standard deviation about 1
    X = rng.standard_normal((n, d))
    mean = np.exp(X @ w + np.log(2.0))
    return X, rng.poisson(mean).astype(np.float64), mean


def quantile_data(n, seed, d=20):
    rng = np.random.default_rng(seed)
    w = true_coef(d)
    X = rng.standard_normal((n, d))
    X[:, 0] = rng.uniform(0.0, 1.0, n)  # the noise's scale
    scale = 1.0 + 2.0 * X[:, 0]
    y = X @ w + scale * rng.standard_t(3, size=n)
    return X, y, X @ w + scale * stats.t(3).ppf(Q)  # (the true 0.9-quantile)


MODELS = {
    "poisson": dict(
        data=poisson_data,
        metric=mean_poisson_deviance,
        sklloss=lambda **kw: SGDRegressor(loss="poisson", alpha=ALPHA, random_state=0, **kw),
        sklearn=lambda: PoissonRegressor(alpha=ALPHA),
        title="Poisson regression, d = 50 (held-out mean Poisson deviance)",
    ),
    "quantile": dict(
        data=quantile_data,
        metric=lambda y, p: mean_pinball_loss(y, p, alpha=Q),
        # (bounded derivatives: per-coordinate AdaGrad steps suit them; the default
        # invscaling needs many more epochs on small n)
        sklloss=lambda **kw: SGDRegressor(loss=Quantile(Q), penalty="l1", alpha=ALPHA,
                                          learning_rate="adagrad", random_state=0, **kw),
        sklearn=lambda: QuantileRegressor(quantile=Q, alpha=ALPHA, solver="highs"),
        title=f"Quantile regression, q = {Q}, d = 20 (held-out mean pinball loss)",
    ),
}


# -- measuring ---------------------------------------------------------------------------
def timed_fit(make, X, y, repeats):
    """(fitted model, median wall time, tracemalloc peak in MB of one fit)."""
    times, model = [], None
    for _ in range(repeats):
        model = make()
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X, y)
        times.append(time.perf_counter() - start)
    tracemalloc.start()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        make().fit(X, y)
    peak = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    return model, float(np.median(times)), peak


def time_to_target(spec, X, y, X_test, y_test, reference, repeats):
    """The first fit of EPOCH_STEPS epochs within 1% of the reference: (epochs, time,
    ratio, peak), or the last tried."""
    for epochs in EPOCH_STEPS:
        model, seconds, peak = timed_fit(
            lambda: spec["sklloss"](max_iter=epochs, tol=None), X, y, repeats)
        ratio = spec["metric"](y_test, model.predict(X_test)) / reference
        if ratio <= 1.01:
            break
    return epochs, seconds, ratio, peak


def streamed(spec, X, y, X_test, y_test, reference, max_passes=10):
    """partial_fit over memory-mapped .npy files in CHUNK rows: (passes, time, ratio,
    tracemalloc peak in MB)."""
    folder = tempfile.mkdtemp(prefix="sklloss-glm-")
    try:
        np.save(os.path.join(folder, "X.npy"), X)
        np.save(os.path.join(folder, "y.npy"), y)
        model = spec["sklloss"]()
        tracemalloc.start()
        start = time.perf_counter()
        for passes in range(1, max_passes + 1):
            X_disk = np.load(os.path.join(folder, "X.npy"), mmap_mode="r")
            y_disk = np.load(os.path.join(folder, "y.npy"), mmap_mode="r")
            for first in range(0, X_disk.shape[0], CHUNK):
                model.partial_fit(np.asarray(X_disk[first:first + CHUNK]),
                                  np.asarray(y_disk[first:first + CHUNK]))
            ratio = spec["metric"](y_test, model.predict(X_test)) / reference
            if ratio <= 1.01:
                break
        seconds = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1] / 1e6
        tracemalloc.stop()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return passes, seconds, ratio, peak


def run_model(name, sizes, repeats):
    spec = MODELS[name]
    rows = []
    X_test, y_test, truth_test = spec["data"](N_TEST, seed=1)
    for n in sizes:
        X, y, _ = spec["data"](n, seed=0)
        row = dict(n=n, data_mb=X.nbytes / 1e6)
        truth = spec["metric"](y_test, truth_test)
        if name == "poisson":
            exact = PoissonRegressor(alpha=ALPHA, tol=1e-10, max_iter=10_000).fit(X, y)
            reference = spec["metric"](y_test, exact.predict(X_test))
        else:
            reference = truth  # (replaced by QuantileRegressor's where it runs)
        if name == "poisson" or n <= QUANTILE_REGRESSOR_MAX_ROWS:
            model, seconds, peak = timed_fit(spec["sklearn"], X, y,
                                             repeats if n <= 10_000 or name == "poisson"
                                             else 1)
            theirs = spec["metric"](y_test, model.predict(X_test))
            if name == "quantile":  # QuantileRegressor's solution is exact
                reference = theirs
            row.update(sklearn_time=seconds, sklearn_peak=peak,
                       sklearn_ratio=theirs / reference)
        row["reference"], row["reference_to_truth"] = reference, reference / truth
        row["epochs"], row["time"], row["ratio"], row["peak"] = time_to_target(
            spec, X, y, X_test, y_test, reference, repeats)
        model, seconds, peak = timed_fit(spec["sklloss"], X, y, repeats)
        row.update(default_time=seconds, default_epochs=model.n_iter_,
                   default_ratio=spec["metric"](y_test, model.predict(X_test)) / reference)
        if row["default_ratio"] <= 1.01 and seconds < row["time"]:
            # the stopping rule's fit is the shortest within 1%
            row.update(epochs=f"{model.n_iter_} (tol)", time=seconds,
                       ratio=row["default_ratio"], peak=peak)
        if n == max(sizes):
            row["stream"] = streamed(spec, X, y, X_test, y_test, reference)
        rows.append(row)
        print(name, row, flush=True)
    return rows


# -- the report ----------------------------------------------------------------------------
def seconds(value):
    return "–" if value is None else (f"{value * 1e3:.0f} ms" if value < 1 else f"{value:.2f} s")


def table(name, rows):
    spec = MODELS[name]
    sk_name = "PoissonRegressor" if name == "poisson" else "QuantileRegressor"
    lines = [f"### {spec['title']}", "",
             f"| n | X (MB) | ref / truth | {sk_name} time | its loss / ref | its peak "
             "| sklloss time to 1% | epochs | loss / ref | peak | speed-up "
             "| sklloss defaults: time, epochs, loss / ref |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for row in rows:
        sk_time = row.get("sklearn_time")
        speedup = "–" if sk_time is None else f"{sk_time / row['time']:.1f}×"
        start = f"| {row['n']:,} | {row['data_mb']:.0f} | {row['reference_to_truth']:.4f} | "
        lines.append(start + (
            f"{seconds(sk_time)} | {row['sklearn_ratio']:.4f} | {row['sklearn_peak']:.0f} MB | "
            if sk_time is not None else "not run (n² time) | – | – | "))
        lines[-1] += (f"{seconds(row['time'])} | {row['epochs']} | {row['ratio']:.4f} | "
                      f"{row['peak']:.1f} MB | {speedup} | {seconds(row['default_time'])}, "
                      f"{row['default_epochs']}, {row['default_ratio']:.4f} |")
    last = rows[-1]
    if "stream" in last:
        passes, stream_time, ratio, peak = last["stream"]
        lines += ["", f"Streamed from disk ({last['n']:,} rows, {last['data_mb']:.0f} MB in "
                      f"chunks of {CHUNK:,}): {passes} pass(es) to loss / ref {ratio:.4f} "
                      f"in {seconds(stream_time)}, tracemalloc peak {peak:.0f} MB."]
    reference = ("the exact solution (PoissonRegressor, tol 1e-10)" if name == "poisson"
                 else "QuantileRegressor's exact solution where it ran, else the true "
                      "0.9-quantile (the population optimum; truth: its loss)")
    lines += ["", f"ref: the held-out loss of {reference}. Peaks: tracemalloc, one fit.", ""]
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, one repeat")
    parser.add_argument("--repeats", type=int, default=None, help="default 3 (quick: 1)")
    parser.add_argument("--no-save", action="store_true", help="print only")
    args = parser.parse_args(argv)
    repeats = args.repeats or (1 if args.quick else 3)
    sizes = {"poisson": (2_000, 10_000) if args.quick else (10_000, 100_000, 1_000_000),
             "quantile": (2_000, 5_000) if args.quick else (10_000, 30_000, 100_000,
                                                            1_000_000)}
    lines = ["# Poisson and quantile regression by SGD, against scikit-learn's exact solvers",
             "", "`python benchmarks/glm.py`" + (" --quick" if args.quick else "") +
             f" (medians of {repeats}; 2-core VM).", ""]
    for name in ("quantile", "poisson"):
        lines += table(name, run_model(name, sizes[name], repeats))
    text = "\n".join(lines)
    print(text)
    if not args.no_save:
        os.makedirs(RESULTS, exist_ok=True)
        with open(os.path.join(RESULTS, "glm.md"), "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
