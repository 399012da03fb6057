"""sklloss.model_selection's searches against scikit-learn's own, on the same sklloss
estimator: the same cv_results_ (every key but the times), best_*, refit model and
scorer; every candidate's coefficients on every fold bit-identical (a scorer that
returns a checksum of them); and the fits done in fewer engine calls."""
import hashlib
import json
import os
import select
import signal
import subprocess
import sys
import time
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import sklearn.model_selection as sk
from scipy.stats import loguniform
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import FitFailedWarning
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MaxAbsScaler, StandardScaler

import sklloss.model_selection as ours
from sklloss import Perceptron, SGDClassifier, SGDOneClassSVM, SGDRegressor
from sklloss.linear_model import _engine


def coef_checksum(estimator, X, y=None):
    """A scorer: 48 bits of a hash of the fitted coefficients and intercept (equal
    scores: equal models, bit for bit)."""
    final = estimator.steps[-1][1] if hasattr(estimator, "steps") else estimator
    intercept = getattr(final, "intercept_", getattr(final, "offset_", None))
    digest = hashlib.blake2b(np.asarray(final.coef_).tobytes()
                             + np.asarray(intercept).tobytes(), digest_size=6).digest()
    return float(int.from_bytes(digest, "big"))


def inlier_fraction(estimator, X, y=None):
    """A scorer for the one-class SVM: the rows it predicts inliers."""
    return float(np.mean(estimator.predict(X) == 1))


def _equal(a, b):
    if isinstance(a, np.ma.MaskedArray) or isinstance(b, np.ma.MaskedArray):
        return (np.array_equal(np.ma.getmaskarray(a), np.ma.getmaskarray(b))
                and all(_equal(x, y) for x, y in zip(a.compressed(), b.compressed())))
    if isinstance(a, np.ndarray) and isinstance(b, np.ndarray):
        return a.shape == b.shape and (np.array_equal(a, b, equal_nan=a.dtype.kind == "f")
                                       or all(_equal(x, y) for x, y in zip(a, b)))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b))
    if hasattr(a, "get_params") and hasattr(b, "get_params") or (
            type(a) is type(b) and type(a).__eq__ is object.__eq__):
        # (estimators, and objects equal only to themselves: splitters, scorers)
        return type(a) is type(b) and repr(a) == repr(b)
    return a == b or (a != a and b != b)


class _Calls:
    """Counts the engine's calls (and their models)."""

    def __init__(self):
        self.calls = []
        self.real = _engine.fit_epochs

    def __call__(self, *args):
        self.calls.append(len(args[0]))
        return self.real(*args)


def _fit_counting(search, X, y, fit_params):
    """(the search fitted, its engine calls, its warnings)."""
    calls = _Calls()
    with warnings.catch_warnings(record=True) as caught, \
            pytest.MonkeyPatch.context() as patch:
        warnings.simplefilter("always")
        patch.setattr(_engine, "fit_epochs", calls)
        search.fit(X, y, **fit_params)
    return search, calls, caught


def _compare(make, X, y=None, fused=True, **fit_params):
    """Fit sklloss's search and scikit-learn's, made by make(module); compare. With
    `fused`, sklloss's search makes fewer engine calls than scikit-learn's fits."""
    theirs, their_calls, their_warnings = _fit_counting(make(sk), X, y, fit_params)
    search, our_calls, our_warnings = _fit_counting(make(ours), X, y, fit_params)
    # (scikit-learn's n_jobs > 1 fits in other processes: count its fits, not calls)
    fits = len(theirs.cv_results_["params"]) * theirs.n_splits_
    if fused:
        assert len(our_calls.calls) < fits / 2
        assert search.fused_fit_time_ > 0
    else:
        assert len(our_calls.calls) == len(their_calls.calls)
    assert type(search).__mro__[1] is type(theirs).__mro__[0] or isinstance(
        search, type(theirs))
    assert ({type(w.message) for w in our_warnings if w.category is FitFailedWarning}
            == {type(w.message) for w in their_warnings if w.category is FitFailedWarning})
    assert search.cv_results_.keys() == theirs.cv_results_.keys()
    for key, value in theirs.cv_results_.items():
        if "time" not in key:
            assert _equal(search.cv_results_[key], value), key
    for name in ("best_index_", "best_score_", "best_params_", "n_splits_", "multimetric_"):
        assert _equal(getattr(search, name, None), getattr(theirs, name, None)), name
    assert repr(search.scorer_) == repr(theirs.scorer_)
    if hasattr(theirs, "best_estimator_"):
        assert type(search.best_estimator_) is type(theirs.best_estimator_)
        assert coef_checksum(search.best_estimator_, X) == coef_checksum(
            theirs.best_estimator_, X)
    return search


def _classification(n_classes=2, layout="dense", seed=0):
    X, y = make_classification(400, 12, n_informative=6, n_classes=n_classes,
                               random_state=seed)
    if layout == "csr":
        X = sp.csr_matrix(np.where(np.abs(X) > 0.6, X, 0.0))
    return X, y


@pytest.mark.parametrize("n_jobs", [None, 2])
@pytest.mark.parametrize("layout", ["dense", "csr"])
def test_grid_over_a_classifier(n_jobs, layout):
    X, y = _classification(layout=layout)
    grid = {"loss": ["hinge", "log_loss", "modified_huber"],
            "alpha": [1e-5, 1e-4, 1e-3, 1e-2], "penalty": ["l2", "elasticnet"]}
    _compare(lambda m: m.GridSearchCV(
        SGDClassifier(random_state=0, max_iter=50), grid, n_jobs=n_jobs,
        scoring={"accuracy": "accuracy", "coef": coef_checksum}, refit="accuracy",
        return_train_score=True), X, y)


@pytest.mark.parametrize("n_jobs", [None, 2])
def test_grid_over_a_pipeline_one_vs_rest_and_multinomial(n_jobs):
    X, y = _classification(n_classes=4)
    grid = {"sgdclassifier__loss": ["hinge", "log_loss", "multinomial_log_loss"],
            "sgdclassifier__alpha": [1e-4, 1e-3],
            "sgdclassifier__learning_rate": ["optimal", "adagrad"],
            "sgdclassifier__eta0": [0.01, 0.1]}
    _compare(lambda m: m.GridSearchCV(
        make_pipeline(StandardScaler(), SGDClassifier(random_state=1, max_iter=30)),
        grid, n_jobs=n_jobs, cv=3,
        scoring={"balanced_accuracy": "balanced_accuracy", "coef": coef_checksum},
        refit="balanced_accuracy"), X, y)


@pytest.mark.parametrize("pipeline", [False, True])
@pytest.mark.parametrize("return_train_score", [False, True])
def test_two_folds_whose_training_rows_are_the_other_folds_test_rows(pipeline,
                                                                     return_train_score):
    # (cv=2: split 0's test rows are split 1's training rows, and the reverse)
    X, y = _classification()
    estimator = SGDClassifier(random_state=0, max_iter=20)
    prefix = "sgdclassifier__" if pipeline else ""
    _compare(lambda m: m.GridSearchCV(
        make_pipeline(StandardScaler(), estimator) if pipeline else estimator,
        {prefix + "loss": ["hinge", "log_loss"], prefix + "alpha": [1e-4, 1e-3]}, cv=2,
        scoring={"accuracy": "accuracy", "coef": coef_checksum}, refit="accuracy",
        return_train_score=return_train_score), X, y)


def test_earlier_steps_that_write_to_their_input():
    # (StandardScaler(copy=False) scales the rows it is given in place: each setting
    # of the scaler the grid varies must be fitted on the fold's rows as they were)
    X, y = _classification()
    X.setflags(write=False)  # (the refits on all of X then scale a copy of it)
    grid = {"standardscaler__with_mean": [True, False],
            "sgdclassifier__alpha": [1e-4, 1e-3, 1e-2]}
    _compare(lambda m: m.GridSearchCV(
        make_pipeline(StandardScaler(copy=False),
                      SGDClassifier(random_state=0, max_iter=20)), grid,
        scoring={"accuracy": "accuracy", "coef": coef_checksum}, refit="accuracy"),
        X, y)


def test_pipeline_steps_the_grid_varies():
    X, y = _classification(layout="csr")
    grid = [{"maxabsscaler": [MaxAbsScaler(), "passthrough"],
             "sgdclassifier__alpha": [1e-4, 1e-3, 1e-2]},
            {"sgdclassifier": [LogisticRegression(max_iter=200)]}]
    _compare(lambda m: m.GridSearchCV(
        make_pipeline(MaxAbsScaler(), SGDClassifier(random_state=0, max_iter=20)), grid,
        scoring={"accuracy": "accuracy", "coef": coef_checksum}, refit="accuracy"), X, y)


def test_randomized_search_over_a_regressor_with_weights():
    X, y = make_regression(300, 10, noise=5.0, random_state=0)
    X = StandardScaler().fit_transform(X)
    weights = np.random.RandomState(0).uniform(0.5, 2.0, X.shape[0])
    distributions = {"alpha": loguniform(1e-6, 1e-1),
                     "loss": ["squared_error", "huber", "epsilon_insensitive", "quantile"],
                     "learning_rate": ["invscaling", "adaptive", "adagrad"],
                     "average": [False, True]}
    _compare(lambda m: m.RandomizedSearchCV(
        SGDRegressor(random_state=3, max_iter=40), distributions, n_iter=16,
        random_state=0, scoring="r2"), X, y, sample_weight=weights)


def test_early_stopping_candidates_and_default_scoring():
    X, y = _classification(n_classes=3)
    grid = {"alpha": [1e-4, 1e-3], "n_iter_no_change": [2, 5],
            "early_stopping": [False, True]}
    _compare(lambda m: m.GridSearchCV(SGDClassifier(random_state=0), grid,
                                      return_train_score=True), X, y)


def test_a_failing_candidate_gets_the_error_score_the_others_are_unaffected():
    X, y = _classification()
    grid = [{"alpha": [1e-4, 1e-3]},
            {"eta0": [1e300], "learning_rate": ["constant"], "penalty": [None],
             "loss": ["squared_error"]}]
    search = _compare(lambda m: m.GridSearchCV(
        SGDClassifier(random_state=0, max_iter=20), grid, error_score=-1.0,
        scoring={"accuracy": "accuracy", "coef": coef_checksum}, refit="accuracy"), X, y)
    assert search.cv_results_["mean_test_accuracy"][2] == -1.0
    with pytest.raises(ValueError, match="Floating-point under-/overflow"):
        ours.GridSearchCV(SGDClassifier(random_state=0, max_iter=20), grid[1],
                          error_score="raise").fit(X, y)


def test_callable_refit_perceptron_and_one_class():
    X, y = _classification()

    def lowest_alpha_within_a_point(results):
        best = np.max(results["mean_test_score"])
        good = np.flatnonzero(results["mean_test_score"] >= best - 0.01)
        return good[np.argmin(np.asarray(results["param_alpha"])[good])]
    _compare(lambda m: m.GridSearchCV(
        Perceptron(random_state=0), {"alpha": [1e-5, 1e-4, 1e-3],
                                     "penalty": [None, "l2"]},
        refit=lowest_alpha_within_a_point), X, y)
    _compare(lambda m: m.GridSearchCV(
        SGDOneClassSVM(random_state=0), {"nu": [0.1, 0.3, 0.5]},
        scoring=inlier_fraction), X)


def test_other_estimators_and_inputs_take_scikit_learns_path():
    X, y = _classification()
    _compare(lambda m: m.GridSearchCV(LogisticRegression(), {"C": [0.1, 1.0]}), X, y,
             fused=False)
    _compare(lambda m: m.GridSearchCV(SGDClassifier(random_state=0),
                                      {"alpha": [1e-4, 1e-3]}), X.tolist(), y, fused=False)


def test_random_state_none_shares_one_row_order_per_fold():
    X, y = _classification()
    # two equal candidates: separate fits would draw two orders; fitted together,
    # they share one, so they score alike on every fold
    search = ours.GridSearchCV(SGDClassifier(max_iter=5, tol=None),
                               {"alpha": [1e-3, 1e-3 + 0.0]}, scoring=coef_checksum)
    search.fit(X, y)
    results = search.cv_results_
    for s in range(5):
        scores = results[f"split{s}_test_score"]
        assert scores[0] == scores[1]


# Ctrl-C during a search: a child process searches; the parent sends SIGINT once the
# candidates' fits run (a fit of 100,000 epochs: hours). The child installs Python's
# SIGINT handler, as an interactive Python has it (see tests/test_robustness.py).
INTERRUPTED_SEARCH = """
import copy, json, signal, sys, traceback
import numpy as np
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklloss import SGDClassifier
from sklloss.model_selection import GridSearchCV
sys.path.insert(0, sys.argv[2])
from test_search import _equal

signal.signal(signal.SIGINT, signal.default_int_handler)
rng = np.random.default_rng(0)
X = rng.standard_normal((50_000, 20))
y = (X[:, 0] + rng.standard_normal(50_000) > 0).astype(int)
search = GridSearchCV(make_pipeline(StandardScaler(), SGDClassifier(random_state=0,
                                                                    max_iter=5, tol=None)),
                      {"sgdclassifier__alpha": [1e-4, 1e-3],
                       "sgdclassifier__loss": ["hinge", "log_loss"]},
                      cv=3, n_jobs=int(sys.argv[1]))
search.fit(X[:300], y[:300])  # (a fitted search: what the interrupted fit must keep)
search.estimator.set_params(sgdclassifier__max_iter=100_000)
before = copy.deepcopy(vars(search))
print("ready", flush=True)
try:
    search.fit(X, y)
    print(json.dumps({"interrupted": False}), flush=True)
except KeyboardInterrupt:
    print(json.dumps({"interrupted": True,
                      "in_engine": "fit_epochs" in traceback.format_exc(),
                      "unchanged": bool(_equal(vars(search), before)),
                      "estimator": type(search.estimator).__name__}), flush=True)
"""


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals (SIGINT by os.kill)")
@pytest.mark.parametrize("n_jobs", [1, 2])
def test_ctrl_c_stops_a_search_and_leaves_it_as_it_was(n_jobs, tmp_path):
    child = subprocess.Popen(
        [sys.executable, "-c", INTERRUPTED_SEARCH, str(n_jobs), os.path.dirname(__file__)],
        stdout=subprocess.PIPE, text=True, cwd=tmp_path)
    try:
        assert child.stdout.readline().strip() == "ready"
        time.sleep(1.5)  # the first fold's candidates are being fitted
        child.send_signal(signal.SIGINT)
        # (a child that does not stop is a failure, not a hang)
        replied, _, _ = select.select([child.stdout], [], [], 60)
        assert replied, "no reply 60 s after SIGINT: the search did not stop"
        reply = child.stdout.readline()
        child.wait(timeout=60)
    finally:
        child.kill()
    # uninterrupted, the search would run for hours: it stopped in the fits, and the
    # search is the fitted one it was (its results, its estimator)
    assert json.loads(reply) == {"interrupted": True, "in_engine": True, "unchanged": True,
                                 "estimator": "Pipeline"}
