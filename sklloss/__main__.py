"""`python -m sklloss`: sklloss's estimators next to scikit-learn's, on bundled data.

For three data sets that ship with scikit-learn (diabetes: regression; breast cancer:
two classes; digits: ten classes) it runs the same pipeline twice, once with
scikit-learn's SGD estimator and once with sklloss's (the one-import change):
``StandardScaler`` then SGD, in a ``GridSearchCV`` that chooses the loss. It prints
the chosen loss, the test score and the fit times of both.
"""
import time
import warnings

import numpy as np
import sklearn
import sklearn.linear_model as sk
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from . import SGDClassifier, SGDRegressor, __version__

CASES = [
    ("diabetes", load_diabetes, "R²", SGDRegressor, sk.SGDRegressor,
     ["squared_error", "huber"], {"max_iter": 1000}),
    ("breast cancer", load_breast_cancer, "accuracy", SGDClassifier, sk.SGDClassifier,
     ["log_loss", "hinge"], {"max_iter": 1000}),
    ("digits", load_digits, "accuracy", SGDClassifier, sk.SGDClassifier,
     ["log_loss", "hinge"], {"max_iter": 1000}),
]
REPEATS = 5


def _search(estimator_class, losses, params):
    pipeline = Pipeline([("scale", StandardScaler()),
                         ("sgd", estimator_class(random_state=0, **params))])
    return GridSearchCV(pipeline, {"sgd__loss": losses, "sgd__alpha": [1e-4, 1e-3]}, cv=3)


def _median_fit_seconds(models, X, y):
    """Median time of `fit` for each of the models, timed in alternation (so that a
    slow moment of the machine is shared), REPEATS times each."""
    times = [[] for _ in models]
    for repeat in range(REPEATS):
        order = range(len(models)) if repeat % 2 == 0 else reversed(range(len(models)))
        for i in order:
            start = time.perf_counter()
            models[i].fit(X, y)
            times[i].append(time.perf_counter() - start)
    return [float(np.median(t)) for t in times]


def main():
    print(f"sklloss {__version__} vs scikit-learn {sklearn.__version__}: the same "
          "Pipeline(StandardScaler, SGD) in a GridSearchCV over the loss and alpha,\n"
          f"3-fold CV on 75% of each data set, scored on the other 25%. Times: median of "
          f"{REPEATS} runs, the two libraries in turn.\n")
    header = (f"{'data set':<14}{'score':<10}{'library':<14}{'chosen loss':<15}"
              f"{'alpha':>8}{'test score':>12}{'search s':>10}{'best fit ms':>13}")
    print(header)
    print("-" * len(header))
    for name, load, score_name, ours, theirs, losses, params in CASES:
        X, y = load(return_X_y=True)
        X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
        libraries = ("scikit-learn", "sklloss")
        searches = [_search(estimator_class, losses, params)
                    for estimator_class in (theirs, ours)]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            search_seconds = _median_fit_seconds(searches, X_train, y_train)
            fit_seconds = _median_fit_seconds(
                [search.best_estimator_ for search in searches], X_train, y_train)
        for i, (library, search) in enumerate(zip(libraries, searches)):
            best = search.best_params_
            print(f"{name:<14}{score_name:<10}{library:<14}{best['sgd__loss']:<15}"
                  f"{best['sgd__alpha']:>8.0e}{search.score(X_test, y_test):>12.4f}"
                  f"{search_seconds[i]:>10.3f}{fit_seconds[i] * 1e3:>13.2f}")
        print(f"{'':<38}sklloss / scikit-learn: search "
              f"{search_seconds[1] / search_seconds[0]:.2f}, best-model fit "
              f"{fit_seconds[1] / fit_seconds[0]:.2f}\n")
    print("Binary and regression fits follow scikit-learn's path from the same "
          "random_state (same row order),\nso their scores agree; ten classes are fitted "
          "in one pass over the rows for all classes per epoch.\n"
          "Per-call times of fit, partial_fit and predict: python benchmarks/overhead.py")


if __name__ == "__main__":
    main()
