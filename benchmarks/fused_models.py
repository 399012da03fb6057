"""What a model costs in a fit of many: the engine's per-epoch time for M models in one
call over the same rows, against M times the epoch of one model alone.

    python benchmarks/fused_models.py            # -> benchmarks/results/fused_models.md
    python benchmarks/fused_models.py --quick    # small data, fewer repeats

The models are those of a search's candidates on one fold: the same X, row order and
targets, different alphas (and, in the mixed rows, different losses, penalties and
schedules). Rows:

- "share": per-epoch time of the M models together / the sum of their per-epoch
  times alone (one thread each), for M = 4, 16, 40 models of one loss (hinge,
  'optimal' steps, alphas apart) on dense 200k x 100 float64 (one thread and two);
- losses in passes: M = 16 models of 4 losses (4 passes over the rows, one per loss)
  against 16 models of one loss (one pass); most of the difference is the losses'
  own costs (log_loss's exp and log). One pass switched from loss to loss, measured
  against a pass per loss by benchmarks/loss_passes.py, won only on long dense rows
  and lost on short ones: the engine runs a pass per loss;
- CSR 200k x 2^18 with 60 non-zeros per row, the same shares: there a job holds one
  model (its 2 MB of weights fill the cache: _engine.SPARSE_JOB_BYTES), so models
  gain from threads, not from shared reads.

Timings are medians of --repeats runs; the per-epoch time is (fit of 1 + E epochs -
fit of 1 epoch) / E, as in run.py.
"""
import argparse
import os
import statistics
import sys
import time

import numpy as np
import scipy.sparse as sp

from sklloss.losses import get_loss
from sklloss.linear_model import _engine

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
MIXED_LOSSES = ["hinge", "log_loss", "modified_huber", "squared_hinge"]


def dense(n, d, rng):
    X = rng.standard_normal((n, d))
    y = (X @ rng.standard_normal(d) + 0.5 * rng.standard_normal(n) > 0).astype(np.float64)
    return X, y


def csr(n, d, nnz, rng):
    indices = np.sort(rng.integers(0, d, (n, nnz)), axis=1).astype(np.int32)
    X = sp.csr_matrix((rng.standard_normal(n * nnz), indices.ravel(),
                       np.arange(0, n * nnz + 1, nnz)), shape=(n, d))
    X.sum_duplicates()
    y = (X @ rng.standard_normal(d) > 0).astype(np.float64)
    return X, y


def settings(loss_name, alpha, penalty="l2", schedule="optimal"):
    loss = get_loss(loss_name)
    epsilon, quantile, power = loss._kernel_record()
    return _engine.ModelSettings(
        kernel=int(loss.kernel), epsilon=epsilon, quantile=quantile, power=power,
        penalty=_engine.PENALTIES[penalty], alpha=alpha, l1_ratio=0.15,
        learning_rate=_engine.LEARNING_RATES[schedule], eta0=0.01, power_t=0.5,
        fit_intercept=True, average=0.0, tol=-np.inf, n_iter_no_change=5)


def fit_seconds(models, X, y, epochs, n_threads, per_coordinate=False):
    K, d = len(models), X.shape[1]
    sparse = sp.issparse(X)
    empty = np.empty(0, dtype=np.int32)
    data = _engine.TrainingData(
        X_data=X.data if sparse else X.ravel(), X_indices=X.indices if sparse else empty,
        X_indptr=X.indptr if sparse else empty, sparse=sparse, n_features=d, y=y,
        sample_weight=np.ones_like(y), classification=True)
    arrays = _engine.ModelArrays(
        coef=np.zeros((K, d)), intercept=np.zeros(K), average_coef=np.zeros((0, d)),
        average_intercept=np.zeros(0), pos_label=np.ones(K), weight_pos=np.ones(K),
        weight_neg=np.ones(K),
        step_state=(np.zeros((K, d)), np.full((K, d), np.inf), np.zeros((K, 3)))
        if per_coordinate else None)
    run = _engine.RunSettings(max_iter=epochs, seed=1, n_threads=n_threads,
                              intercept_decay=0.01 if sparse else 1.0)
    start = time.perf_counter()
    _engine.fit_epochs(models, data, arrays, run)
    return time.perf_counter() - start


def epoch_seconds(models, X, y, epochs, n_threads, per_coordinate=False):
    one = fit_seconds(models, X, y, 1, n_threads, per_coordinate)
    many = fit_seconds(models, X, y, 1 + epochs, n_threads, per_coordinate)
    return max(many - one, 1e-9) / epochs


def alphas(m):
    return list(np.logspace(-6, -2, m))


def cases(quick):
    rng = np.random.default_rng(0)
    n = 20_000 if quick else 200_000
    data = {"dense %dk×100" % (n // 1000): dense(n, 100, rng),
            "CSR %dk×2^18 60 nnz" % (n // 1000): csr(n, 2 ** 18, 60, rng)}
    for name, (X, y) in data.items():
        for n_threads in (1, 2):
            for m in (4, 16, 40):
                yield (name, f"{m} × hinge", n_threads, X, y,
                       [settings("hinge", a) for a in alphas(m)])
            yield (name, "16: 4 losses × 4 alphas", n_threads, X, y,
                   [settings(loss, a) for loss in MIXED_LOSSES for a in alphas(4)])
            yield (name, "16: hinge, penalties and schedules mixed", n_threads, X, y,
                   [settings("hinge", a, penalty, schedule) for a in alphas(2)
                    for penalty in ("l2", "elasticnet")
                    for schedule in ("optimal", "invscaling", "constant", "adagrad")])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeats", type=int, default=None, help="default 5 (quick: 2)")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--out", default=RESULTS)
    args = parser.parse_args(argv)
    repeats = args.repeats or (2 if args.quick else 5)
    lines = ["| X | models | threads | a model alone ms/epoch | M models ms/epoch "
             "| per model | share of a model alone |",
             "|---|---|---:|---:|---:|---:|---:|"]
    print("\n".join(lines), flush=True)
    for name, label, n_threads, X, y, models in cases(args.quick):
        per_coordinate = "schedules" in label
        # the models alone: one of them when they differ only by alpha (the same work
        # each), else each of them (the mean of their epochs)
        apart = models[:1] if "× hinge" in label else models
        alone, together = [], []
        for _ in range(repeats):
            alone.append(statistics.mean(
                epoch_seconds([m], X, y, args.epochs, 1, per_coordinate) for m in apart))
            together.append(epoch_seconds(models, X, y, args.epochs, n_threads,
                                          per_coordinate))
        one, many = statistics.median(alone), statistics.median(together)
        share = many / (len(models) * one)
        line = (f"| {name} | {label} | {n_threads} | {one * 1e3:.1f} | {many * 1e3:.1f} "
                f"| {many / len(models) * 1e3:.2f} | {share:.3f} |")
        lines.append(line)
        print(line, flush=True)
    if not args.quick:
        os.makedirs(args.out, exist_ok=True)
        with open(os.path.join(args.out, "fused_models.md"), "w") as f:
            f.write("# Models fitted together: per-epoch share of a model alone\n\n"
                    "`python benchmarks/fused_models.py` (the models alone: one thread each; "
                    "share: the M models' epoch / the sum of their epochs alone)\n\n"
                    + "\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
