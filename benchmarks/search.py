"""GridSearchCV three ways, in one run: scikit-learn's search over scikit-learn's SGD
estimator, scikit-learn's search over sklloss's, and sklloss's search (each fold's
candidates fitted together) over sklloss's.

    python benchmarks/search.py            # -> benchmarks/results/search.md and .png
    python benchmarks/search.py --quick    # small data, one repeat (a smoke run)

Cases: the demo's three searches (``python -m sklloss``: a Pipeline(StandardScaler,
SGD) over loss x alpha, on the demo's training rows), then larger data with grids of 12
to 40 candidates (loss x alpha x penalty x schedule) x 5 folds, n_jobs 1 and 2: dense
200k x 100 binary and 10-class, a 200k x 100 regression, and a CSR "text" matrix of
200k x 2^18 with 60 non-zeros per row. The larger fits run a fixed number of epochs (``max_iter=5``,
``tol=None``), so that every library does the same work. Times are medians of
--repeats runs, the three searches in turn. With each row, "equal": whether
sklloss's search gives scikit-learn's search over the same estimator exactly the same
``cv_results_`` (every key but the times).
"""
import argparse
import os
import statistics
import sys
import time
import warnings

import numpy as np
import scipy.sparse as sp
import sklearn.linear_model as sk
import sklearn.model_selection as sk_selection
from sklearn.model_selection import train_test_split
from sklearn.exceptions import ConvergenceWarning

import sklloss
import sklloss.model_selection as ours
from sklloss.__main__ import ALPHAS as DEMO_ALPHAS
from sklloss.__main__ import CASES as DEMO_CASES
from sklloss.__main__ import FOLDS as DEMO_FOLDS
from sklloss.__main__ import _search as demo_search

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
# the larger cases' fits and grids (benchmarks/search_floor.py splits the same searches)
FIXED = dict(max_iter=5, tol=None, random_state=0)
ALPHAS = [1e-6, 1e-5, 1e-4, 1e-3]
LOSSES = {"SGDClassifier": ["hinge", "log_loss", "modified_huber"],
          "SGDRegressor": ["squared_error", "huber", "epsilon_insensitive"]}


def dense(n, d, task, n_classes=2, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    score = X @ rng.standard_normal((d, n_classes if task == "multi" else 1)) / np.sqrt(d)
    noise = 0.5 * rng.standard_normal(score.shape)
    if task == "regression":
        return X, (score + noise).ravel()
    if task == "multi":
        return X, np.argmax(score + noise, axis=1)
    return X, (score + noise > 0).ravel().astype(np.int64)


def text(n, d, nnz, seed=0):
    rng = np.random.default_rng(seed)
    indices = np.sort(rng.integers(0, d, (n, nnz)), axis=1).astype(np.int32)
    X = sp.csr_matrix((np.abs(rng.standard_normal(n * nnz)), indices.ravel(),
                       np.arange(0, n * nnz + 1, nnz)), shape=(n, d))
    X.sum_duplicates()
    y = (X @ rng.standard_normal(d) > 0).astype(np.int64)
    return X, y


def cases(quick):
    """(name, X, y, make(search module, estimator module) -> search, n_jobs)."""
    for name, load, _, ours, _, losses, params in DEMO_CASES:
        X, y = load(return_X_y=True)
        # (the demo's training rows)
        X, _, y, _ = train_test_split(X, y, random_state=0)

        def make(selection, library, estimator=ours.__name__, losses=losses,
                 params=params):
            return demo_search(getattr(library, estimator), losses, params,
                               selection.GridSearchCV)
        yield (f"demo: {name} ({X.shape[0]}×{X.shape[1]}), {3 * len(DEMO_ALPHAS)} "
               f"candidates × {DEMO_FOLDS} folds", X, y, make, None)
    n = 200_000 // (20 if quick else 1)
    large = [*grid_cases(quick), (
        f"dense {n // 1000}k×100 binary", dense(n, 100, "binary"), "SGDClassifier",
        {"loss": ["hinge", "log_loss"], "alpha": [1e-6, 1e-5, 1e-4, 1e-3, 1e-2],
         "penalty": ["l2", "elasticnet"], "learning_rate": ["optimal", "invscaling"]})]
    for name, (X, y), estimator, grid in large:
        n_candidates = int(np.prod([len(v) for v in grid.values()]))
        for n_jobs in (1, 2):
            def make(selection, library, estimator=estimator, grid=grid, n_jobs=n_jobs):
                return selection.GridSearchCV(getattr(library, estimator)(**FIXED), grid,
                                              cv=5, n_jobs=n_jobs)
            yield (f"{name}, {n_candidates} candidates × 5 folds, n_jobs={n_jobs}", X, y,
                   make, n_jobs)


def grid_cases(quick):
    """(name, (X, y), estimator name, grid) of the 12-candidate grids (loss x alpha) on
    the larger data sets."""
    n = 200_000 // (20 if quick else 1)
    for name, data, estimator in [
            (f"dense {n // 1000}k×100 binary", dense(n, 100, "binary"), "SGDClassifier"),
            (f"dense {n // 2000}k×100 10-class", dense(n // 2, 100, "multi", 10),
             "SGDClassifier"),
            (f"dense {n // 1000}k×100 regression", dense(n, 100, "regression"),
             "SGDRegressor"),
            (f"CSR {n // 1000}k×2^18 60 nnz binary", text(n, 2 ** 18, 60),
             "SGDClassifier")]:
        yield name, data, estimator, {"loss": LOSSES[estimator], "alpha": ALPHAS}


def arguments(argv, doc):
    """The command line of search.py and search_floor.py (--repeats: default 3, quick 1)."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeats", type=int, default=None, help="default 3 (quick: 1)")
    parser.add_argument("--out", default=RESULTS)
    args = parser.parse_args(argv)
    args.repeats = args.repeats or (1 if args.quick else 3)
    return args


def _equal_results(a, b):
    if a.keys() != b.keys():
        return False
    for key in a:
        if "time" in key:
            continue
        x, y = a[key], b[key]
        if isinstance(x, np.ma.MaskedArray):
            if not (np.array_equal(np.ma.getmaskarray(x), np.ma.getmaskarray(y))
                    and list(x.compressed()) == list(y.compressed())):
                return False
        elif isinstance(x, np.ndarray) and x.dtype.kind == "f":
            if not np.array_equal(x, y, equal_nan=True):
                return False
        elif list(x) != list(y):
            return False
    return True


def measure(make, X, y, repeats):
    searches = {"sklearn / sklearn": lambda: make(sk_selection, sk),
                "sklearn / sklloss": lambda: make(sk_selection, sklloss),
                "sklloss / sklloss": lambda: make(ours, sklloss)}
    times = {name: [] for name in searches}
    fitted = {}
    for repeat in range(repeats):
        order = list(searches) if repeat % 2 == 0 else list(reversed(searches))
        for name in order:
            search = searches[name]()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                start = time.perf_counter()
                search.fit(X, y)
                times[name].append(time.perf_counter() - start)
            fitted[name] = search
    seconds = {name: statistics.median(t) for name, t in times.items()}
    equal = _equal_results(fitted["sklloss / sklloss"].cv_results_,
                           fitted["sklearn / sklloss"].cv_results_)
    return seconds, equal


def plot(rows, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 0.45 * len(rows) + 1.5))
    labels = [row["case"] for row in rows]
    positions = np.arange(len(rows))
    ax.barh(positions + 0.2, [r["vs_sklearn_estimator"] for r in rows], 0.4,
            label="vs scikit-learn's search over sklloss's estimator")
    ax.barh(positions - 0.2, [r["vs_sklearn"] for r in rows], 0.4,
            label="vs scikit-learn's search over scikit-learn's estimator")
    ax.axvline(1.0, color="gray", lw=0.8)
    ax.set_yticks(positions, labels, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("sklloss's GridSearchCV time / the other search's time")
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None):
    args = arguments(argv, __doc__)
    repeats = args.repeats
    header = ("| case | sklearn search, sklearn SGD s | sklearn search, sklloss SGD s "
              "| sklloss search s | vs sklearn search, sklloss SGD | vs sklearn search, "
              "sklearn SGD | equal |\n|---|---:|---:|---:|---:|---:|:---:|")
    print(header, flush=True)
    rows = []
    for name, X, y, make, _ in cases(args.quick):
        seconds, equal = measure(make, X, y, repeats)
        row = {"case": name, **seconds,
               "vs_sklearn_estimator": seconds["sklloss / sklloss"]
               / seconds["sklearn / sklloss"],
               "vs_sklearn": seconds["sklloss / sklloss"] / seconds["sklearn / sklearn"],
               "equal": equal}
        rows.append(row)
        line = (f"| {name} | {seconds['sklearn / sklearn']:.2f} "
                f"| {seconds['sklearn / sklloss']:.2f} | {seconds['sklloss / sklloss']:.2f} "
                f"| {row['vs_sklearn_estimator']:.2f} | {row['vs_sklearn']:.2f} "
                f"| {'yes' if equal else 'NO'} |")
        print(line, flush=True)
    if not args.quick:
        os.makedirs(args.out, exist_ok=True)
        with open(os.path.join(args.out, "search.md"), "w") as f:
            f.write("# GridSearchCV three ways\n\n`python benchmarks/search.py` "
                    f"(medians of {repeats} runs; \"equal\": sklloss's search gives the "
                    "same cv_results_ as scikit-learn's over the same estimator)\n\n"
                    + header + "\n" + "\n".join(
                        f"| {r['case']} | {r['sklearn / sklearn']:.2f} "
                        f"| {r['sklearn / sklloss']:.2f} | {r['sklloss / sklloss']:.2f} "
                        f"| {r['vs_sklearn_estimator']:.2f} | {r['vs_sklearn']:.2f} "
                        f"| {'yes' if r['equal'] else 'NO'} |" for r in rows) + "\n")
        plot(rows, os.path.join(args.out, "search.png"))
    return 0 if all(r["equal"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
