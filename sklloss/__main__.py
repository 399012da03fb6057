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


def _median_fit_seconds(model, X, y):
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        model.fit(X, y)
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def main():
    print(f"sklloss {__version__} vs scikit-learn {sklearn.__version__}: the same "
          "Pipeline(StandardScaler, SGD) in a GridSearchCV over the loss and alpha,\n"
          f"3-fold CV on 75% of each data set, scored on the other 25%. Times: median of "
          f"{REPEATS} runs.\n")
    header = (f"{'data set':<14}{'score':<10}{'library':<14}{'chosen loss':<15}"
              f"{'alpha':>8}{'test score':>12}{'search s':>10}{'best fit ms':>13}")
    print(header)
    print("-" * len(header))
    for name, load, score_name, ours, theirs, losses, params in CASES:
        X, y = load(return_X_y=True)
        X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
        rows = []
        for library, estimator_class in (("scikit-learn", theirs), ("sklloss", ours)):
            search = _search(estimator_class, losses, params)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                search_seconds = _median_fit_seconds(search, X_train, y_train)
                fit_seconds = _median_fit_seconds(search.best_estimator_, X_train, y_train)
            best = search.best_params_
            rows.append((library, best["sgd__loss"], best["sgd__alpha"],
                         search.score(X_test, y_test), search_seconds, fit_seconds))
        for library, loss, alpha, score, search_seconds, fit_seconds in rows:
            print(f"{name:<14}{score_name:<10}{library:<14}{loss:<15}{alpha:>8.0e}"
                  f"{score:>12.4f}{search_seconds:>10.3f}{fit_seconds * 1e3:>13.2f}")
        ratio = rows[1][5] / rows[0][5]
        print(f"{'':<38}best-model fit time, sklloss / scikit-learn: {ratio:.2f}\n")
    print("Binary and regression fits follow scikit-learn's path from the same "
          "random_state (same row order),\nso their scores agree; ten classes are fitted "
          "in one pass over the rows for all classes per epoch.")


if __name__ == "__main__":
    main()
