"""How fast sklloss's GridSearchCV could be: where its time goes on the large cases of
benchmarks/search.py, and the floor that the fused fits alone set.

    python benchmarks/search_floor.py            # -> benchmarks/results/search_floor.md
    python benchmarks/search_floor.py --quick    # small data, one repeat (a smoke run)

Table 1, for the 12-candidate grids of search.py at n_jobs=1: scikit-learn's search
over sklloss's estimator, sklloss's search, and sklloss's search split into its fused
fits (``fused_fit_time_``: every candidate of a fold fitted together, the engine's
passes included, and each fold's training rows taken), its scoring
(``cv_results_``'s score times) and the rest (scikit-learn's search machinery). The
rows taken are timed apart too (``X[train]`` for the 5 folds). "floor": the fused
fits' time without the rows taken, over scikit-learn's search over sklloss's
estimator: the ratio that sklloss's search would have if everything but the fits
themselves cost nothing.

Table 2, the 10-class case's engine: one fit of sklloss's estimator trains its 10
one-vs-rest outputs in one pass over the rows already; fitting 4 such candidates
together adds nothing to share. Per output and row, the fused pass costs what the
outputs alone cost, whatever the loss.

Times are medians of --repeats runs, the searches alternating.
"""
import os
import statistics
import sys
import time

import numpy as np
import sklearn.model_selection as sk_selection
from sklearn.base import is_classifier
from sklearn.utils import _safe_indexing

import sklloss
import sklloss.model_selection as ours
from sklloss.linear_model._together import fit_together

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from search import ALPHAS, FIXED, LOSSES, arguments, dense, grid_cases  # noqa: E402


def split_search(X, y, estimator, grid, repeats):
    times = {"theirs": [], "ours": [], "fits": [], "scoring": [], "rows": []}
    cv = sk_selection.check_cv(5, y, classifier=is_classifier(getattr(sklloss, estimator)()))
    for repeat in range(repeats):
        start = time.perf_counter()
        for train, _ in cv.split(X, y):
            _safe_indexing(X, train)
        times["rows"].append(time.perf_counter() - start)
        order = ["theirs", "ours"] if repeat % 2 == 0 else ["ours", "theirs"]
        for name in order:
            selection = sk_selection if name == "theirs" else ours
            search = selection.GridSearchCV(getattr(sklloss, estimator)(**FIXED), grid,
                                            cv=5, n_jobs=1, refit=False)
            start = time.perf_counter()
            search.fit(X, y)
            times[name].append(time.perf_counter() - start)
            if name == "ours":
                times["fits"].append(search.fused_fit_time_)
                times["scoring"].append(float(np.sum(search.cv_results_["mean_score_time"]))
                                        * search.n_splits_)
    return {name: statistics.median(t) for name, t in times.items()}


def one_vs_rest(quick, repeats):
    n = 80_000 // (20 if quick else 1)
    X, y = dense(n, 100, "multi", 10)
    rows = n * FIXED["max_iter"]

    def median(fit):
        seconds = []
        for _ in range(repeats):
            start = time.perf_counter()
            fit()
            seconds.append(time.perf_counter() - start)
        return statistics.median(seconds)

    for loss in LOSSES["SGDClassifier"]:
        alone = median(lambda: sklloss.SGDClassifier(loss=loss, n_jobs=1, **FIXED).fit(X, y))
        fused = median(lambda: fit_together(
            [sklloss.SGDClassifier(loss=loss, alpha=alpha, **FIXED) for alpha in ALPHAS],
            X, y, n_threads=1))
        yield loss, alone / (rows * 10) * 1e9, fused / (rows * 10 * len(ALPHAS)) * 1e9


def main(argv=None):
    args = arguments(argv, __doc__)
    repeats = args.repeats
    lines = [
        "| case (12 candidates × 5 folds, n_jobs=1) | sklearn search, sklloss SGD s "
        "| sklloss search s | ratio | fused fits s | of which rows taken s | scoring s "
        "| rest s | floor |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    print("\n".join(lines), flush=True)
    for name, (X, y), estimator, grid in grid_cases(args.quick):
        t = split_search(X, y, estimator, grid, repeats)
        rest = t["ours"] - t["fits"] - t["scoring"]
        lines.append(f"| {name} | {t['theirs']:.2f} | {t['ours']:.2f} "
                     f"| {t['ours'] / t['theirs']:.2f} | {t['fits']:.2f} | {t['rows']:.2f} "
                     f"| {t['scoring']:.2f} | {rest:.2f} "
                     f"| {(t['fits'] - t['rows']) / t['theirs']:.2f} |")
        print(lines[-1], flush=True)
    table2 = ["| loss | one fit, 10 outputs: ns per output and row "
              "| 4 fits together, 40 outputs: ns per output and row | together / alone |",
              "|---|---:|---:|---:|"]
    print("\n" + "\n".join(table2), flush=True)
    for loss, alone, fused in one_vs_rest(args.quick, repeats):
        table2.append(f"| {loss} | {alone:.1f} | {fused:.1f} | {fused / alone:.2f} |")
        print(table2[-1], flush=True)
    if not args.quick:
        os.makedirs(args.out, exist_ok=True)
        with open(os.path.join(args.out, "search_floor.md"), "w") as f:
            f.write("# Where sklloss's GridSearchCV spends its time, and its floor\n\n"
                    f"`python benchmarks/search_floor.py` (medians of {repeats} runs). "
                    "\"floor\": the fused fits' time without the rows taken, over "
                    "scikit-learn's search over sklloss's estimator.\n\n" + "\n".join(lines)
                    + "\n\n## The 10-class engine: one-vs-rest alone and fused "
                    "(dense 80k×100, 5 epochs, one thread)\n\n" + "\n".join(table2)
                    + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
