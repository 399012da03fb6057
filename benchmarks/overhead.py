"""Per-call time of sklloss against scikit-learn on small problems, where the Python
around the compiled engine counts as much as the engine.

    python benchmarks/overhead.py           # -> benchmarks/results/overhead.md (~5 min)
    python benchmarks/overhead.py --quick   # fewer rounds, same table (~1 min)

Both libraries run in this one process, on the same (standardised) data with the same
parameters. A case is a pair of calls; each round times a batch of each (the batch is
sized to take about 20 ms, so that a 5 µs call is not lost in the timer), the two in
alternating order. Reported: the median time per call of each library, and the median
over rounds of the ratio of the two batches timed side by side (below 1: sklloss is
faster), with the issue's target for that kind of call.

- fit: a new estimator and its fit (what a GridSearchCV does per candidate and fold),
  on the small data sets that ship with scikit-learn, with default parameters, with
  ``max_iter=5, tol=None`` and with ``early_stopping=True``;
- partial_fit: one call on a chunk of a 20-feature stream (dense) or of a 2^14-feature
  CSR matrix with 30 non-zeros per row, on a model already started;
- predict, decision_function, predict_proba: a log_loss model of 20 features, on 1,
  10, 1000 and 10^5 rows;
- other common calls, without a target: several classes, ``classes`` passed on every
  partial_fit, data frames (validated by scikit-learn in both libraries), lists;
- the demo's (``python -m sklloss``) GridSearchCV fit and its best model's fit.

Timings on a shared machine move by tens of percent between runs: compare the ratios
of one run, never absolute times across runs.
"""
import argparse
import gc
import os
import statistics
import time
import warnings

import numpy as np
import scipy.sparse as sp
import sklearn
import sklearn.linear_model as sk
from sklearn.datasets import (load_breast_cancer, load_diabetes, load_digits, load_iris,
                              load_wine, make_classification)
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV as SklearnGridSearchCV
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

import sklloss
from sklloss.__main__ import CASES as DEMO_CASES, _search as demo_search

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
BATCH_SECONDS = 0.02

TARGETS = {"fit": 0.7, "partial_fit": 0.35, "predict small": 0.5, "predict large": 1.0,
           "demo": 1.0}


def _batch(function, n_calls):
    gc.disable()
    try:
        start = time.perf_counter()
        for _ in range(n_calls):
            function()
        return time.perf_counter() - start
    finally:
        gc.enable()


def compare(ours, theirs, rounds):
    """(their seconds per call, our seconds per call, median ratio of paired batches)."""
    for function in (ours, theirs):  # warm up (imports, caches, first-call costs)
        for _ in range(3):
            function()
    one_call = max(_batch(theirs, 1), _batch(ours, 1), 1e-7)
    n_calls = max(1, int(BATCH_SECONDS / one_call))
    theirs_times, ours_times, ratios = [], [], []
    for r in range(rounds):
        if r % 2 == 0:
            t_theirs, t_ours = _batch(theirs, n_calls), _batch(ours, n_calls)
        else:
            t_ours, t_theirs = _batch(ours, n_calls), _batch(theirs, n_calls)
        theirs_times.append(t_theirs / n_calls)
        ours_times.append(t_ours / n_calls)
        ratios.append(t_ours / t_theirs)
    return (statistics.median(theirs_times), statistics.median(ours_times),
            statistics.median(ratios))


def _standardised(load):
    X, y = load(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def fit_cases():
    data_sets = [("iris", load_iris, "classifier"), ("wine", load_wine, "classifier"),
                 ("breast cancer", load_breast_cancer, "classifier"),
                 ("diabetes", load_diabetes, "regressor"), ("digits", load_digits,
                                                            "classifier")]
    settings = [("defaults", {}), ("max_iter=5, tol=None", {"max_iter": 5, "tol": None}),
                ("early_stopping=True", {"early_stopping": True})]
    for name, load, kind in data_sets:
        X, y = _standardised(load)
        ours_class = sklloss.SGDClassifier if kind == "classifier" else sklloss.SGDRegressor
        theirs_class = sk.SGDClassifier if kind == "classifier" else sk.SGDRegressor
        for setting, params in settings:
            yield ("fit", f"`fit` {name} ({X.shape[0]}×{X.shape[1]}), {setting}",
                   lambda c=ours_class, p=params, X=X, y=y: c(random_state=0, **p).fit(X, y),
                   lambda c=theirs_class, p=params, X=X, y=y: c(random_state=0, **p).fit(X, y))


def partial_fit_cases():
    X, y = make_classification(20_000, 20, n_informative=10, random_state=0)
    X = StandardScaler().fit_transform(X)
    rng = np.random.RandomState(0)
    n, d, nnz = 20_000, 1 << 14, 30
    X_csr = sp.csr_matrix((rng.normal(size=n * nnz), rng.randint(0, d, n * nnz),
                           np.arange(0, n * nnz + 1, nnz)), shape=(n, d))
    X_csr.sum_duplicates()
    y_csr = (X_csr[:, :d // 2].sum(axis=1).A1 > 0).astype(int)
    cases = [("classifier", "dense", X, y, (1, 10, 100, 1000)),
             ("regressor", "dense", X, X[:, 0] + 0.1 * y, (1, 100)),
             ("classifier", "CSR", X_csr, y_csr, (10, 100, 1000))]
    for kind, layout, X_all, y_all, sizes in cases:
        for rows in sizes:
            models = []
            for library in (sklloss, sk):
                if kind == "classifier":
                    model = library.SGDClassifier(random_state=0)
                    model.partial_fit(X_all[:1000], y_all[:1000], classes=[0, 1])
                else:
                    model = library.SGDRegressor(random_state=0)
                    model.partial_fit(X_all[:1000], y_all[:1000])
                models.append(model)
            chunk_X, chunk_y = X_all[1000:1000 + rows], y_all[1000:1000 + rows]
            yield ("partial_fit", f"`partial_fit` {kind}, {layout} chunk of {rows} row"
                   f"{'s' if rows > 1 else ''}",
                   lambda m=models[0], X=chunk_X, y=chunk_y: m.partial_fit(X, y),
                   lambda m=models[1], X=chunk_X, y=chunk_y: m.partial_fit(X, y))


def predict_cases():
    X, y = make_classification(100_000, 20, n_informative=10, random_state=1)
    X = StandardScaler().fit_transform(X)
    ours = sklloss.SGDClassifier(loss="log_loss", random_state=0).fit(X[:5000], y[:5000])
    theirs = sk.SGDClassifier(loss="log_loss", random_state=0).fit(X[:5000], y[:5000])
    for method in ("predict", "decision_function", "predict_proba"):
        for rows in (1, 10, 1000, 100_000):
            kind = "predict small" if rows <= 10 else (
                "predict large" if rows == 100_000 else "predict")
            yield (kind, f"`{method}` on {rows} row{'s' if rows > 1 else ''}",
                   lambda m=ours, X=X[:rows], f=method: getattr(m, f)(X),
                   lambda m=theirs, X=X[:rows], f=method: getattr(m, f)(X))


def pattern_cases():
    """Other common ways of calling (no target of their own): several classes,
    `classes` passed on every call, data frames, lists and string labels."""
    import pandas

    X, y = make_classification(5000, 30, n_informative=10, n_classes=5, random_state=0)
    X = StandardScaler().fit_transform(X)
    frame = pandas.DataFrame(X, columns=[f"c{j}" for j in range(30)])
    for label, chunk, kwargs in [
            ("`partial_fit` 5 classes, dense chunk of 10 rows", X[500:510], {}),
            ("`partial_fit` 5 classes, `classes=` on every call", X[500:510],
             {"classes": np.arange(5)}),
            ("`partial_fit` 5 classes, DataFrame chunk of 10 rows", frame.iloc[500:510], {})]:
        models = [library.SGDClassifier(random_state=0).partial_fit(
            frame.iloc[:500] if "DataFrame" in label else X[:500], y[:500],
            classes=np.arange(5)) for library in (sklloss, sk)]
        yield ("other", label,
               lambda m=models[0], c=chunk, k=kwargs: m.partial_fit(c, y[500:510], **k),
               lambda m=models[1], c=chunk, k=kwargs: m.partial_fit(c, y[500:510], **k))
    models = [library.SGDClassifier(random_state=0).fit(frame, y) for library in (sklloss, sk)]
    yield ("other", "`predict` on a DataFrame of 10 rows",
           lambda: models[0].predict(frame.iloc[:10]), lambda: models[1].predict(frame.iloc[:10]))
    yield ("other", "`fit` 5 classes, DataFrame of 1000 rows",
           lambda: sklloss.SGDClassifier(random_state=0).fit(frame.iloc[:1000], y[:1000]),
           lambda: sk.SGDClassifier(random_state=0).fit(frame.iloc[:1000], y[:1000]))
    X_list, labels = X[:1000].tolist(), np.array(list("abcde"))[y[:1000]]
    yield ("other", "`fit` on a list with string labels, `max_iter=5, tol=None`",
           lambda: sklloss.SGDClassifier(random_state=0, max_iter=5, tol=None).fit(X_list,
                                                                                   labels),
           lambda: sk.SGDClassifier(random_state=0, max_iter=5, tol=None).fit(X_list, labels))


def demo_cases():
    for name, load, _, ours, theirs, losses, params in DEMO_CASES:
        X, y = load(return_X_y=True)
        X_train, _, y_train, _ = train_test_split(X, y, random_state=0)
        # (sklloss's search over sklloss's estimator; scikit-learn's over scikit-learn's)
        searches = [demo_search(ours, losses, params),
                    demo_search(theirs, losses, params, SklearnGridSearchCV)]
        yield ("demo", f"demo: `GridSearchCV.fit`, {name}",
               lambda s=searches[0], X=X_train, y=y_train: s.fit(X, y),
               lambda s=searches[1], X=X_train, y=y_train: s.fit(X, y))
        best = [search.fit(X_train, y_train).best_estimator_ for search in searches]
        yield ("demo", f"demo: best model's `fit`, {name}",
               lambda m=best[0], X=X_train, y=y_train: m.fit(X, y),
               lambda m=best[1], X=X_train, y=y_train: m.fit(X, y))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds (~1 min)")
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--out", default=RESULTS, help="folder of overhead.md")
    parser.add_argument("--no-save", action="store_true", help="print the table only")
    args = parser.parse_args(argv)
    rounds = args.rounds or (5 if args.quick else 21)
    warnings.simplefilter("ignore", ConvergenceWarning)

    rows, misses = [], []
    for group in (fit_cases, partial_fit_cases, predict_cases, pattern_cases, demo_cases):
        for kind, label, ours, theirs in group():
            t_theirs, t_ours, ratio = compare(ours, theirs, rounds)
            target = TARGETS.get(kind)
            met = "" if target is None else ("yes" if (ratio < target if kind == "demo"
                                                     else ratio <= target) else "**no**")
            if met == "**no**":
                misses.append(label)
            row = (f"| {label} | {_time(t_theirs)} | {_time(t_ours)} | {ratio:.2f} | "
                   f"{'' if target is None else ('< ' if kind == 'demo' else '≤ ') + str(target)}"
                   f" | {met} |")
            print(row, flush=True)
            rows.append(row)
    header = (f"Made by `python benchmarks/overhead.py{' --quick' if args.quick else ''}` "
              f"(sklloss {sklloss.__version__}, scikit-learn {sklearn.__version__}, numpy "
              f"{np.__version__}, {os.cpu_count()} CPUs; {rounds} alternating rounds, "
              "medians).\n\n"
              "| call | scikit-learn | sklloss | sklloss / scikit-learn | target | met |\n"
              "|---|---:|---:|---:|---:|:---:|")
    table = header + "\n" + "\n".join(rows) + "\n"
    n_targeted = sum(1 for row in rows if not row.endswith("|  |  |"))
    summary = (f"\n{n_targeted - len(misses)} of the {n_targeted} rows with a target meet "
               "it" + (": missed by " + "; ".join(misses) if misses else "") + ".\n")
    print(summary)
    if not args.no_save:
        os.makedirs(args.out, exist_ok=True)
        name = "overhead_quick.md" if args.quick else "overhead.md"
        with open(os.path.join(args.out, name), "w") as f:
            f.write(table + summary)
        print("wrote", os.path.join(args.out, name))


def _time(seconds):
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.1f} µs"


if __name__ == "__main__":
    main()
