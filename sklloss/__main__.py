"""`python -m sklloss`: sklloss next to scikit-learn, on bundled data.

For three data sets that ship with scikit-learn (diabetes: regression; breast cancer:
two classes; digits: ten classes) it runs the same search three ways: a
``GridSearchCV`` over the loss and alpha of ``Pipeline(StandardScaler, SGD)``, with

- scikit-learn's ``GridSearchCV`` over scikit-learn's SGD estimator,
- scikit-learn's ``GridSearchCV`` over sklloss's (the one-import change of the
  estimator),
- sklloss's ``GridSearchCV`` over sklloss's (``sklloss.model_selection``: each fold's
  candidates fitted together, in shared passes over its rows).

It prints the chosen loss and alpha, the test score and the search time of each.
"""
import time
import warnings

import numpy as np
import sklearn
import sklearn.linear_model as sk
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV as SklearnGridSearchCV
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from . import SGDClassifier, SGDRegressor, __version__
from .model_selection import GridSearchCV

# (name, loader, score, sklloss's estimator, scikit-learn's, the losses searched, the
# estimators' other parameters)
CASES = [
    ("diabetes", load_diabetes, "R²", SGDRegressor, sk.SGDRegressor,
     ["squared_error", "huber", "epsilon_insensitive"], {}),
    ("breast cancer", load_breast_cancer, "accuracy", SGDClassifier, sk.SGDClassifier,
     ["hinge", "log_loss", "modified_huber"], {}),
    ("digits", load_digits, "accuracy", SGDClassifier, sk.SGDClassifier,
     ["hinge", "log_loss", "modified_huber"], {}),
]
ALPHAS = [1e-4, 1e-3]
FOLDS = 3
REPEATS = 3
# (search, estimator): the three ways, scikit-learn's first
WAYS = [("scikit-learn", "scikit-learn"), ("scikit-learn", "sklloss"),
        ("sklloss", "sklloss")]


def _search(estimator_class, losses, params, search_class=GridSearchCV):
    """The demo's search: loss x alpha of Pipeline(StandardScaler, SGD), 3-fold CV."""
    pipeline = Pipeline([("scale", StandardScaler()),
                         ("sgd", estimator_class(random_state=0, **params))])
    return search_class(pipeline, {"sgd__loss": losses, "sgd__alpha": ALPHAS}, cv=FOLDS)


def _searches(ours, theirs, losses, params):
    """The three searches of WAYS."""
    return [_search(theirs if estimator == "scikit-learn" else ours, losses, params,
                    SklearnGridSearchCV if search == "scikit-learn" else GridSearchCV)
            for search, estimator in WAYS]


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
          "GridSearchCV over the loss and alpha of\nPipeline(StandardScaler, SGD), "
          f"{len(ALPHAS) * 3} candidates x {FOLDS}-fold CV on 75% of each data set, scored on "
          "the other 25%,\nthree ways: scikit-learn's search over scikit-learn's SGD "
          "estimator, over sklloss's, and\nsklloss's search (sklloss.model_selection."
          "GridSearchCV: each fold's candidates fitted together)\nover sklloss's. Times: "
          f"median of {REPEATS} runs, the three in turn.\n")
    header = (f"{'data set':<14}{'score':<10}{'search':<14}{'estimator':<14}"
              f"{'chosen loss':<21}{'alpha':>7}{'test score':>12}{'search s':>10}"
              f"{'/ sklearn':>11}")
    print(header)
    print("-" * len(header))
    for name, load, score_name, ours, theirs, losses, params in CASES:
        X, y = load(return_X_y=True)
        X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
        searches = _searches(ours, theirs, losses, params)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            seconds = _median_fit_seconds(searches, X_train, y_train)
        for (search_library, estimator_library), search, s in zip(WAYS, searches,
                                                                 seconds):
            best = search.best_params_
            print(f"{name:<14}{score_name:<10}{search_library:<14}{estimator_library:<14}"
                  f"{best['sgd__loss']:<21}{best['sgd__alpha']:>7.0e}"
                  f"{search.score(X_test, y_test):>12.4f}{s:>10.3f}"
                  f"{s / seconds[0]:>11.2f}")
        print()
    print("The binary and regression fits follow scikit-learn's path from the same "
          "random_state (the same\nrow order), so their scores agree; sklloss fits ten "
          "classes in one pass over the rows per epoch.\nsklloss's search fits the "
          "same models as scikit-learn's over sklloss's estimator, bit for bit. On data\n"
          "this small the candidates' own epochs and the scoring are the time, so "
          "fitting them together\nsaves little; on 200k dense rows (binary, regression) "
          "it saves about half: benchmarks/search.py.")


if __name__ == "__main__":
    main()
