"""Reliability: bad input, transactional state, interrupts, determinism and
concurrency, memory, persistence, fuzzing.

A failing call must leave the estimator exactly as it was. The bad-input tests
therefore fit a model first, make the bad call, and compare every attribute with a
deep copy taken before; they also replace the compiled engine by a function that fails
the test, which shows that the error is raised before any compiled code runs.
"""
import copy
import io
import json
import pickle
import select
import signal
import subprocess
import sys
import textwrap
import threading
import time
import tracemalloc
import warnings
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import joblib
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import skops.io as sio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import InvalidParameterError

import loss_lists
from model_state import assert_same_state, snapshot
from sklloss import (
    InputConversionError,
    Perceptron,
    SGDClassifier,
    SGDOneClassSVM,
    SGDRegressor,
)
from sklloss.linear_model import _engine
from sklloss.losses import BaseLoss, Hinge, Huber, LogLoss, ModifiedHuber, MultinomialLogLoss

RNG = np.random.default_rng(0)
X = RNG.standard_normal((40, 4))
Y3 = np.arange(40) % 3
YR = X @ np.array([1.0, -2.0, 0.5, 3.0]) + 0.1 * RNG.standard_normal(40)
COLUMNS = ["a", "b", "c", "d"]


class _CubicLoss(BaseLoss):
    """A user's loss class: a loss object, but none the engine has a kernel for."""
    name = "cubic"
    task = "regression"


def _quiet(function, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return function(*args, **kwargs)


def _with(array, row, column, value):
    array = np.array(array, dtype=float)
    if array.ndim == 1:
        array[row] = value
    else:
        array[row, column] = value
    return array


# -- the state of an estimator, compared exactly -------------------------------------
def _engine_must_not_run(*args, **kwargs):
    raise AssertionError("the compiled engine was reached")


# -- 1. bad input: a clear ValueError, before the engine, nothing changed -------------
def _classifier(**params):
    return _quiet(SGDClassifier(random_state=0, average=True, **params).partial_fit,
                  X, Y3, classes=[0, 1, 2])


def _regressor(**params):
    model = SGDRegressor(random_state=0, average=True, **params)
    return _quiet(model.partial_fit, X, YR).partial_fit(X, YR)


def _named_classifier():
    return SGDClassifier(random_state=0).partial_fit(pd.DataFrame(X, columns=COLUMNS), Y3,
                                                     classes=[0, 1, 2])


def _strings():
    return np.array([["a", "b", "c", "d"]] * 40)


def _object_with(value):
    X_object = X.astype(object)
    X_object[3, 1] = value
    return X_object


def _csr_with_column(index):
    bad = sp.csr_matrix(X)
    bad.indices[5] = index
    return bad


def _csr_with_short_indptr():
    bad = sp.csr_matrix(X)
    bad.indptr = bad.indptr.copy()
    bad.indptr[7] = bad.indptr[8] + 1  # decreasing
    return bad


BAD_INPUT = [
    # non-finite values
    ("X with NaN", _classifier, lambda m: m.fit(_with(X, 3, 1, np.nan), Y3),
     "Input X contains NaN"),
    ("X with inf", _regressor, lambda m: m.partial_fit(_with(X, 3, 1, np.inf), YR),
     "Input X contains infinity"),
    ("CSR X with NaN", _classifier,
     lambda m: m.partial_fit(sp.csr_matrix(_with(X, 3, 1, np.nan)), Y3),
     "Input X contains NaN"),
    ("X of None", _classifier, lambda m: m.fit(_object_with(None), Y3),
     "Input X contains NaN"),
    ("classifier y with NaN", _classifier, lambda m: m.fit(X, _with(Y3, 5, 0, np.nan)),
     "Input y contains NaN"),
    ("regressor y with inf", _regressor, lambda m: m.partial_fit(X, _with(YR, 5, 0, np.inf)),
     "Input y contains infinity"),
    ("sample_weight with NaN", _classifier,
     lambda m: m.fit(X, Y3, sample_weight=_with(np.ones(40), 2, 0, np.nan)),
     "Input sample_weight contains NaN"),
    ("sample_weight with inf", _regressor,
     lambda m: m.partial_fit(X, YR, sample_weight=_with(np.ones(40), 2, 0, np.inf)),
     "Input sample_weight contains infinity"),
    ("coef_init with NaN", _regressor,
     lambda m: m.fit(X, YR, coef_init=_with(np.zeros(4), 1, 0, np.nan)),
     "Input coef_init contains NaN"),
    ("intercept_init with inf", _classifier,
     lambda m: m.fit(X, Y3, intercept_init=_with(np.zeros(3), 1, 0, np.inf)),
     "Input intercept_init contains infinity"),
    # weights
    ("negative sample_weight", _classifier,
     lambda m: m.fit(X, Y3, sample_weight=_with(np.ones(40), 2, 0, -1.0)),
     "Negative values in data passed to `sample_weight`"),
    ("negative sample_weight in partial_fit", _regressor,
     lambda m: m.partial_fit(X, YR, sample_weight=_with(np.ones(40), 2, 0, -1.0)),
     "Negative values in data passed to `sample_weight`"),
    ("all-zero sample_weight", _regressor,
     lambda m: m.fit(X, YR, sample_weight=np.zeros(40)),
     "Sample weights must contain at least one non-zero number"),
    ("negative class_weight", lambda: _classifier().set_params(class_weight={0: -1.0}),
     lambda m: m.fit(X, Y3), "class_weight must be finite and non-negative"),
    ("class_weight of an unknown class", lambda: _classifier().set_params(class_weight={7: 2.0}),
     lambda m: m.fit(X, Y3), "are not in class_weight"),
    # shapes and sizes
    ("X 1-D", _classifier, lambda m: m.fit(X[:, 0], Y3), "Expected 2D array, got 1D array"),
    ("X 3-D", _regressor, lambda m: m.fit(X[:, :, None], YR), "Found array with dim 3"),
    ("y 2-D", _regressor, lambda m: m.fit(X, np.c_[YR, YR]), "y should be a 1d array"),
    ("X and y lengths differ", _classifier, lambda m: m.partial_fit(X, Y3[:-1]),
     r"inconsistent numbers of samples: \[40, 39\]"),
    ("sample_weight length", _regressor, lambda m: m.fit(X, YR, sample_weight=np.ones(5)),
     r"sample_weight.shape == \(5,\), expected \(40,\)"),
    ("empty X", _classifier, lambda m: m.partial_fit(X[:0], Y3[:0]), r"0 sample\(s\)"),
    ("no features", _regressor, lambda m: m.fit(X[:, :0], YR), r"0 feature\(s\)"),
    ("coef_init shape", _classifier, lambda m: m.fit(X, Y3, coef_init=np.zeros((2, 4))),
     r"coef_init does not match dataset: expected shape \(3, 4\), got \(2, 4\)"),
    ("warm start on other features", lambda: _classifier().set_params(warm_start=True),
     lambda m: m.fit(X[:, :3], Y3),
     r"coef_init does not match dataset: expected shape \(3, 3\), got \(3, 4\) \(with "
     r"warm_start=True, coef_init defaults to the previous fit's coef_\)"),
    # labels and classes
    ("one class", _classifier, lambda m: m.fit(X, np.zeros(40)),
     "The number of classes has to be greater than one"),
    ("first partial_fit without classes", SGDClassifier, lambda m: m.partial_fit(X, Y3),
     "classes must be passed on the first call to partial_fit"),
    ("labels not in classes", _classifier, lambda m: m.partial_fit(X, _with(Y3, 0, 0, 7)),
     r"y contains labels not in classes \[0, 1, 2\]: \[7.0\]"),
    ("classes changed", _classifier, lambda m: m.partial_fit(X, Y3, classes=[0, 1, 2, 3]),
     "is not the same as on last call to partial_fit"),
    ("continuous labels", _classifier, lambda m: m.fit(X, YR), "Unknown label type"),
    # features
    ("feature count in partial_fit", _classifier, lambda m: m.partial_fit(X[:, :3], Y3),
     "X has 3 features, but SGDClassifier is expecting 4 features"),
    ("feature count in predict", _regressor, lambda m: m.predict(X[:, :3]),
     "X has 3 features, but SGDRegressor is expecting 4 features"),
    ("feature names in partial_fit", _named_classifier,
     lambda m: m.partial_fit(pd.DataFrame(X, columns=["a", "b", "c", "z"]), Y3),
     "The feature names should match those that were passed during fit"),
    ("feature names in predict", _named_classifier,
     lambda m: m.predict(pd.DataFrame(X, columns=["d", "c", "b", "a"])),
     "The feature names should match those that were passed during fit"),
    # losses
    ("unknown loss", lambda: _classifier().set_params(loss="squared_loss"),
     lambda m: m.fit(X, Y3), "The 'loss' parameter of SGDClassifier must be"),
    ("classification loss on the regressor", lambda: _regressor().set_params(loss="hinge"),
     lambda m: m.fit(X, YR), "The 'loss' parameter of SGDRegressor must be"),
    ("classification loss object on the regressor",
     lambda: _regressor().set_params(loss=LogLoss()), lambda m: m.partial_fit(X, YR),
     r"SGDRegressor does not support loss=LogLoss\(\)"),
    ("a loss object the engine does not know",
     lambda: _classifier().set_params(loss=_CubicLoss()), lambda m: m.fit(X, Y3),
     r"SGDClassifier does not support loss=_CubicLoss\(\)"),
    ("loss name as a typo", lambda: SGDRegressor(loss="huber_loss"), lambda m: m.fit(X, YR),
     "The 'loss' parameter of SGDRegressor must be"),
    # parameters out of range or inconsistent
    *[(f"{name}={value!r}", lambda name=name, value=value: _regressor().set_params(
        **{name: value}), lambda m: m.fit(X, YR), f"The '{name}' parameter of SGDRegressor")
      for name, value in [("alpha", -1.0), ("alpha", np.nan), ("eta0", 0.0),
                          ("eta0", np.inf), ("l1_ratio", 1.5), ("max_iter", 0),
                          ("tol", np.nan), ("validation_fraction", 1.0),
                          ("n_iter_no_change", 0), ("average", -1), ("power_t", np.nan),
                          ("epsilon", -0.1), ("learning_rate", "fast"), ("penalty", "l3"),
                          ("max_iter", 5.0), ("shuffle", "yes")]],
    ("class_weight='auto'", lambda: SGDClassifier(class_weight="auto"),
     lambda m: m.fit(X, Y3), "The 'class_weight' parameter of SGDClassifier"),
    ("optimal schedule without alpha", lambda: _classifier().set_params(alpha=0.0),
     lambda m: m.fit(X, Y3), "alpha must be > 0 since learning_rate is 'optimal'"),
    ("pa1 with log_loss", lambda: _classifier().set_params(loss="log_loss",
                                                          learning_rate="pa1"),
     lambda m: m.fit(X, Y3), "Learning rate 'pa1' only works with loss 'hinge'"),
    ("pa1 with squared_error", lambda: _regressor().set_params(learning_rate="pa1"),
     lambda m: m.fit(X, YR),
     "Learning rate 'pa1' only works with loss 'epsilon_insensitive'"),
    ("elasticnet without l1_ratio", lambda: _regressor().set_params(penalty="elasticnet",
                                                                   l1_ratio=None),
     lambda m: m.fit(X, YR), "l1_ratio must be set when penalty is 'elasticnet'"),
    ("early stopping in partial_fit", lambda: SGDClassifier(early_stopping=True),
     lambda m: m.partial_fit(X, Y3, classes=[0, 1, 2]),
     "early_stopping should be False with partial_fit"),
    ("balanced class_weight in partial_fit", lambda: SGDClassifier(class_weight="balanced"),
     lambda m: m.partial_fit(X, Y3, classes=[0, 1, 2]),
     "class_weight 'balanced' is not supported for partial_fit"),
    ("early stopping on one row", lambda: SGDRegressor(early_stopping=True),
     lambda m: m.fit(X[:1], YR[:1]), "the resulting train set will be empty"),
    # what cannot be converted
    ("X of strings", _classifier, lambda m: m.fit(_strings(), Y3),
     "could not convert string to float"),
    ("X holding a dict", _regressor, lambda m: m.fit(_object_with({"a": 1}), YR),
     r"X or y could not be converted: float\(\) argument must be a string or a real number"),
    ("regressor y of strings", _regressor, lambda m: m.fit(X, ["a"] * 40),
     "could not convert string to float"),
    ("labels that cannot be sorted", _classifier,
     lambda m: m.fit(X, np.array(["a", None] * 20, dtype=object)),
     r"the labels in y \(or classes\) could not be compared: mixed or unorderable types"),
    ("labels of mixed types in partial_fit", _classifier,
     lambda m: m.partial_fit(X, np.array([1, "a"] * 20, dtype=object)),
     "Unknown label type: unknown"),
    ("sparse y", _regressor, lambda m: m.fit(X, sp.csr_matrix(YR[:, None])),
     "X or y could not be converted: Sparse data was passed for y"),
    ("scalar sample_weight inf", _classifier, lambda m: m.fit(X, Y3, sample_weight=np.inf),
     "Input sample_weight contains infinity"),
    ("regressor y of None", _regressor,
     lambda m: m.partial_fit(X, np.array([1.0, None] * 20, dtype=object)),
     "Input y contains NaN"),
    ("sample_weight of strings", _regressor,
     lambda m: m.fit(X, YR, sample_weight=["w"] * 40), "could not convert string to float"),
    ("complex X", _classifier, lambda m: m.fit(X + 1j, Y3), "Complex data not supported"),
    # CSR whose index arrays point outside the matrix
    ("CSR column index past the end", _classifier,
     lambda m: m.partial_fit(_csr_with_column(4), Y3),
     r"malformed CSR matrix: its column indices must lie in \[0, 4\)"),
    ("CSR negative column index", _regressor,
     lambda m: m.fit(_csr_with_column(-1), YR), "malformed CSR matrix: its column indices"),
    ("CSR decreasing indptr", _regressor, lambda m: m.predict(_csr_with_short_indptr()),
     "malformed CSR matrix: its indptr"),
]


@pytest.mark.parametrize("make, call, match", [case[1:] for case in BAD_INPUT],
                         ids=[case[0] for case in BAD_INPUT])
def test_bad_input_is_a_clear_error_before_the_engine_and_changes_nothing(
        make, call, match, monkeypatch):
    model = make()
    before = snapshot(model)
    monkeypatch.setattr(_engine, "fit_epochs", _engine_must_not_run)
    with pytest.raises(ValueError, match=match):
        call(model)
    assert_same_state(model, before)


def test_errors_are_sklearns_exception_types_too():
    # parameter errors are scikit-learn's InvalidParameterError; a conversion failure
    # is a ValueError that is still the TypeError numpy raises (as scikit-learn's own
    # estimator checks expect)
    with pytest.raises(InvalidParameterError):
        SGDClassifier(alpha=-1).fit(X, Y3)
    with pytest.raises(TypeError, match="argument must be a string.* number") as error:
        SGDClassifier().fit(_object_with({"a": 1}), Y3)
    assert isinstance(error.value, InputConversionError)
    with pytest.raises(TypeError):
        SGDRegressor().fit(X, YR).predict(_object_with({"a": 1}))


def test_messy_csr_works_unsorted_duplicates_int64():
    X_big, y = make_regression(300, 12, noise=3.0, random_state=0)
    reference = SGDRegressor(random_state=0).fit(sp.csr_matrix(X_big), y)
    coo = sp.coo_matrix(X_big)
    # every entry split in two halves stored in reverse order, int64 indices
    rows = np.concatenate([coo.row, coo.row])[::-1]
    cols = np.concatenate([coo.col, coo.col])[::-1]
    data = np.concatenate([coo.data / 2, coo.data / 2])[::-1]
    messy = sp.csr_matrix((data, (rows, cols)), shape=X_big.shape)
    messy.indices = messy.indices.astype(np.int64)
    messy.indptr = messy.indptr.astype(np.int64)
    messy.has_sorted_indices = False
    assert not messy.has_canonical_format
    fitted = SGDRegressor(random_state=0).fit(messy, y)
    np.testing.assert_allclose(fitted.coef_, reference.coef_, rtol=1e-9)
    np.testing.assert_allclose(fitted.predict(messy), reference.predict(X_big), rtol=1e-9)
    # and the other sparse formats and containers
    for other in (sp.csc_matrix(X_big), sp.coo_array(X_big), sp.csr_array(X_big)):
        np.testing.assert_allclose(SGDRegressor(random_state=0).fit(other, y).coef_,
                                   reference.coef_, rtol=1e-9)


def test_partial_fit_goes_on_in_the_dtype_of_each_chunk():
    # (scikit-learn raises a TypeError from its compiled code here)
    for first, second in [(np.float64, np.float32), (np.float32, np.float64)]:
        mixed = SGDRegressor(random_state=0).partial_fit(X.astype(first), YR)
        mixed.partial_fit(X.astype(second), YR)
        plain = SGDRegressor(random_state=0).partial_fit(X, YR).partial_fit(X, YR)
        assert mixed.coef_.dtype == mixed.intercept_.dtype == second
        np.testing.assert_allclose(mixed.coef_, plain.coef_, rtol=1e-5)


def test_coef_init_shapes_that_scikit_learn_accepts():
    # one output: any shape holding n_features values; K outputs: (K, n_features)
    for Estimator, y_fit, shapes in [(SGDClassifier, Y3 % 2, [(4,), (1, 4), (4, 1)]),
                                     (SGDRegressor, YR, [(4,), (1, 4), (4, 1)]),
                                     (SGDClassifier, Y3, [(3, 4)])]:
        reference = _quiet(Estimator(max_iter=3, random_state=0).fit, X, y_fit,
                           coef_init=np.full(shapes[0], 0.5))
        for shape in shapes[1:]:
            fitted = _quiet(Estimator(max_iter=3, random_state=0).fit, X, y_fit,
                            coef_init=np.full(shape, 0.5))
            np.testing.assert_array_equal(fitted.coef_, reference.coef_)
    with pytest.raises(ValueError, match=r"expected shape \(4,\), got \(8,\)"):
        SGDRegressor().fit(X, YR, coef_init=np.zeros((2, 4)))


def test_what_fit_accepts_predict_accepts():
    X_text = X.astype(str)  # numbers as strings: converted, as scikit-learn's fit does
    model = _quiet(SGDRegressor(random_state=0).fit, X_text, YR)
    np.testing.assert_array_equal(model.predict(X_text), model.predict(X))


# -- 2. transactional state: divergence, interrupts, any failure ----------------------
@pytest.mark.parametrize("method", ["fit", "partial_fit"])
@pytest.mark.parametrize("make, X_bad, y", [
    (_classifier, X * 1e200, Y3),
    (_regressor, X * 1e200, YR),
    (lambda: _regressor(learning_rate="constant"), X, YR * 1e200),
])
def test_divergence_is_a_clear_error_and_changes_nothing(make, X_bad, y, method):
    model = make().set_params(learning_rate="constant", eta0=1e3)
    before = snapshot(model)
    with pytest.raises(ValueError, match=r"overflow occurred at epoch #1\. Scaling input "
                                         r"data .* might help, or a smaller learning rate "
                                         r"\(eta0"):
        getattr(model, method)(X_bad, y)
    assert_same_state(model, before)


def test_a_model_whose_predictions_overflow_is_divergence_too():
    # one huge cell: the weights stay finite, but the model's prediction for that row
    # (and the hinge loss, 0 there) is infinite
    X_huge = X.copy()
    X_huge[0, 0] = 1e300
    model = SGDClassifier(random_state=0)
    with pytest.raises(ValueError, match=r"overflow occurred at epoch #\d+\. Scaling"):
        model.fit(X_huge, Y3 % 2)
    assert_same_state(model, snapshot(SGDClassifier(random_state=0)))


def test_an_average_that_overflows_is_divergence_too():
    # huge (finite) sample weights: the weights stay finite, their average does not
    rng = np.random.RandomState(0)
    X_one, y_one, weights = np.ones((20, 1)), rng.randint(0, 2, 20), rng.rand(20) * 1e300
    params = dict(penalty=None, fit_intercept=False, max_iter=20, tol=None, random_state=0,
                  learning_rate="pa1", eta0=1e6)
    plain = SGDClassifier(**params).fit(X_one, y_one, sample_weight=weights)
    assert np.all(np.isfinite(plain.coef_))
    averaged = SGDClassifier(average=True, **params)
    with pytest.raises(ValueError, match=r"overflow occurred at epoch #20\."):
        averaged.fit(X_one, y_one, sample_weight=weights)
    assert_same_state(averaged, snapshot(SGDClassifier(average=True, **params)))


@pytest.mark.parametrize("exception", [KeyboardInterrupt, MemoryError, RuntimeError])
@pytest.mark.parametrize("make, method, args", [
    (_classifier, "partial_fit", (X, Y3)),
    (_classifier, "fit", (X, Y3)),
    (_regressor, "partial_fit", (X, YR)),
    (lambda: _regressor(warm_start=True), "fit", (X, YR)),
])
def test_a_failure_after_the_engine_ran_changes_nothing(make, method, args, exception,
                                                        monkeypatch):
    # the engine updates the arrays it is given; the estimator must have given copies
    real_engine = _engine.fit_epochs

    def engine_then_failure(*engine_args, **engine_kwargs):
        result = real_engine(*engine_args, **engine_kwargs)
        assert result["status"] == _engine.OK
        raise exception("failed after the epochs")

    model = make()
    before = snapshot(model)
    monkeypatch.setattr(_engine, "fit_epochs", engine_then_failure)
    with pytest.raises(exception):
        getattr(model, method)(*args)
    assert_same_state(model, before)


def test_a_failed_call_leaves_no_trace_in_what_follows():
    chunks = np.array_split(np.arange(40), 2)
    clean = _classifier()
    failed = _classifier()
    for chunk in chunks:
        clean.partial_fit(X[chunk], Y3[chunk])
        with pytest.raises(ValueError):
            failed.partial_fit(X[chunk] * 1e200, Y3[chunk])  # diverges
        with pytest.raises(ValueError):
            failed.partial_fit(X[chunk], _with(Y3[chunk], 0, 0, 9))  # unknown label
        failed.partial_fit(X[chunk], Y3[chunk])
    assert_same_state(failed, snapshot(clean))


# Ctrl-C: a child process fits; the parent sends SIGINT and times the reply. The
# child installs Python's own SIGINT handler, as an interactive Python has it: a
# process started in the background of a non-interactive shell inherits SIGINT
# ignored, and Python then never raises KeyboardInterrupt (the fit would run on).
INTERRUPT_CHILD = textwrap.dedent("""
    import copy, json, signal, sys, traceback
    import numpy as np, scipy.sparse as sp
    from sklloss import SGDClassifier, SGDOneClassSVM

    signal.signal(signal.SIGINT, signal.default_int_handler)

    def snapshot_equal(a, b):
        if isinstance(b, dict):
            return a.keys() == b.keys() and all(snapshot_equal(a[k], b[k]) for k in b)
        if isinstance(b, np.ndarray):
            return (isinstance(a, np.ndarray) and a.dtype == b.dtype
                    and np.array_equal(a, b))
        return type(a) is type(b) and (a == b if not hasattr(b, "__dict__")
                                       else repr(a) == repr(b))

    case = sys.argv[1]
    rng = np.random.default_rng(0)
    if case == "dense fit":
        X = rng.standard_normal((200_000, 50)); y = (X[:, 0] > 0).astype(int)
        model, call = SGDClassifier(random_state=0, average=True), "fit"
    elif case == "CSR partial_fit":
        n, nnz, d = 200_000, 40, 1 << 16
        indices = np.sort(rng.integers(0, d, (n, nnz)), axis=1).ravel()
        X = sp.csr_matrix((rng.standard_normal(n * nnz), indices,
                           np.arange(0, n * nnz + 1, nnz)), shape=(n, d))
        X.sum_duplicates()
        y = np.arange(n) % 50  # 50 classes: one epoch takes seconds
        model, call = SGDClassifier(random_state=0), "partial_fit"
    elif case == "one-class fit":
        X = rng.standard_normal((200_000, 50)); y = None
        model, call = SGDOneClassSVM(random_state=0, average=True), "fit"
    elif case == "binary n_jobs=2":  # one output, its rows gathered by a second thread
        X = rng.standard_normal((200_000, 50)); y = (X[:, 0] > 0).astype(int)
        model, call = SGDClassifier(random_state=0, n_jobs=2), "fit"
    else:  # wide rows, 100 classes, two threads: 2M multiply-adds per row
        X = rng.standard_normal((1000, 20_000), dtype=np.float32)
        y = np.arange(1000) % 100
        model, call = SGDClassifier(random_state=0, n_jobs=2), "fit"
    model.set_params(max_iter=100_000, tol=None)
    if y is None:
        model.partial_fit(X[:100])
    else:
        model.partial_fit(X[:100], y[:100], classes=np.unique(y))
    before = copy.deepcopy(vars(model))
    print("ready", flush=True)
    try:
        getattr(model, call)(X, y)
        print(json.dumps({"interrupted": False}), flush=True)
    except KeyboardInterrupt:
        print(json.dumps({"interrupted": True,
                          "in_engine": "fit_epochs" in traceback.format_exc(),
                          "unchanged": snapshot_equal(vars(model), before)}), flush=True)
""")

POSIX_SIGNALS = pytest.mark.skipif(
    sys.platform == "win32", reason="POSIX signals (SIGINT sent by os.kill, SIGALRM): on "
    "Windows, Ctrl-C is a console event and there is no alarm")


@POSIX_SIGNALS
@pytest.mark.parametrize("case", ["dense fit", "CSR partial_fit", "binary n_jobs=2",
                                  "wide multi-class n_jobs=2", "one-class fit"])
def test_ctrl_c_stops_a_long_fit_quickly_and_changes_nothing(case, tmp_path):
    # (run from tmp_path: from the source tree, `import sklloss` would find the
    # uncompiled package rather than the installed one)
    child = subprocess.Popen([sys.executable, "-c", INTERRUPT_CHILD, case],
                             stdout=subprocess.PIPE, text=True, cwd=tmp_path)
    try:
        assert child.stdout.readline().strip() == "ready"
        time.sleep(1.0)  # validation is done, the epochs are running
        sent = time.perf_counter()
        child.send_signal(signal.SIGINT)
        # (a child that does not stop is a failure, not a hang)
        replied, _, _ = select.select([child.stdout], [], [], 30)
        assert replied, "no reply 30 s after SIGINT: the fit did not stop"
        reply = child.stdout.readline()
        latency = time.perf_counter() - sent
        child.wait(timeout=60)
    finally:
        child.kill()
    outcome = json.loads(reply)
    # uninterrupted, the fit would run for hours: it stopped because of the signal,
    # inside the compiled epochs, about at once, and left the model as it was
    assert outcome == {"interrupted": True, "in_engine": True, "unchanged": True}
    assert latency < 1.0, f"KeyboardInterrupt {latency:.2f} s after SIGINT"


# -- 4. determinism and concurrency -------------------------------------------------
@pytest.fixture(scope="module")
def multiclass():
    X_mc, y_mc = make_classification(2000, 30, n_informative=10, n_classes=4,
                                     random_state=0)
    return X_mc, y_mc


def _jobs(X_mc, y_mc):
    """Several different fits: (estimator, X, y)."""
    y_reg = X_mc @ np.linspace(-1, 1, X_mc.shape[1])
    X_csr = sp.csr_matrix(np.where(np.abs(X_mc) > 1, X_mc, 0.0))
    return [
        (SGDClassifier(random_state=1), X_mc, y_mc),
        (SGDClassifier(loss="log_loss", average=True, random_state=2, n_jobs=2), X_mc, y_mc),
        (SGDClassifier(penalty="elasticnet", early_stopping=True, random_state=3), X_csr,
         y_mc),
        (SGDClassifier(loss=ModifiedHuber(), class_weight="balanced", random_state=4),
         X_mc.astype(np.float32), y_mc % 2),
        (SGDClassifier(loss="multinomial_log_loss", penalty="l1", average=True,
                       random_state=8), X_mc, y_mc),
        (SGDClassifier(loss=MultinomialLogLoss(), early_stopping=True, random_state=9),
         X_csr.astype(np.float32), y_mc),
        (SGDRegressor(random_state=5), X_mc, y_reg),
        (SGDRegressor(loss=Huber(epsilon=0.5), penalty="l1", random_state=6), X_csr, y_reg),
        (SGDRegressor(learning_rate="adaptive", average=10, random_state=7), X_mc, y_reg),
    ]


def _fit(job):
    estimator, X_job, y_job = job
    return _quiet(clone(estimator).fit, X_job, y_job)


def _assert_same_model(a, b):
    np.testing.assert_array_equal(a.coef_, b.coef_)
    np.testing.assert_array_equal(a.intercept_, b.intercept_)
    assert (a.n_iter_, a.t_) == (b.n_iter_, b.t_)


def test_same_random_state_is_bit_identical_and_another_differs(multiclass):
    for job in _jobs(*multiclass):
        first, second = _fit(job), _fit(job)
        _assert_same_model(first, second)
        estimator, X_job, y_job = job
        other = _quiet(clone(estimator).set_params(random_state=99).fit, X_job, y_job)
        assert not np.array_equal(other.coef_, first.coef_)


@pytest.mark.parametrize("params", [dict(), dict(average=10), dict(penalty="l1"),
                                    dict(early_stopping=True), dict(loss="log_loss")])
def test_n_jobs_does_not_change_the_result(multiclass, params):
    X_mc, y_mc = multiclass
    results = [_quiet(SGDClassifier(random_state=0, n_jobs=n_jobs, **params).fit, X_mc, y_mc)
               for n_jobs in (1, 2, 3, -1, None)]
    for other in results[1:]:
        _assert_same_model(other, results[0])


def _one_output_jobs():
    """Fits of one output (or one multinomial model): (estimator, X, y), dense and CSR
    (rows of 0 to 60 non-zeros, some empty), float64 and float32."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((3000, 40))
    y = (X[:, 0] + 0.5 * rng.standard_normal(3000) > 0).astype(int)
    y_reg = X @ np.linspace(-1, 1, 40) + rng.standard_normal(3000)
    X_csr = sp.random(3000, 5000, density=0.006, format="csr", random_state=0,
                      data_rvs=rng.standard_normal)
    X_csr[::7] = 0.0  # empty rows
    X_csr.eliminate_zeros()
    y_csr = (np.asarray(X_csr.sum(axis=1)).ravel() > 0).astype(int)
    weights = rng.uniform(0.5, 2.0, 3000)
    return [
        (SGDClassifier(loss="hinge", random_state=0), X, y, None),
        (SGDClassifier(loss="log_loss", average=10, random_state=1), X.astype(np.float32),
         y, weights),
        (SGDClassifier(penalty="elasticnet", early_stopping=True, random_state=2), X_csr,
         y_csr, None),
        (SGDClassifier(learning_rate="pa1", loss="hinge", random_state=3), X_csr, y_csr,
         weights),
        (SGDClassifier(loss="multinomial_log_loss", random_state=4), X, y % 2 + (X[:, 1] > 0),
         None),
        (SGDClassifier(learning_rate="adagrad", random_state=5), X_csr.astype(np.float32),
         y_csr, None),
        (SGDRegressor(random_state=6), X, y_reg, weights),
        (SGDRegressor(loss="huber", penalty="l1", random_state=7), X_csr, y_csr * 2.0, None),
        (SGDRegressor(loss="poisson", learning_rate="normalized_adagrad", random_state=8),
         X_csr, y_csr + 1.0, None),
    ]


@pytest.mark.parametrize("job", range(9))
def test_n_jobs_2_for_one_output_is_bit_identical(job, monkeypatch):
    # a single output's epoch in two threads (its rows gathered in blocks by the
    # second): forced on this small X, whose rows make 10 to 40 blocks, so that every
    # kind of step runs on gathered blocks and on blocks read from X
    estimator, X_job, y_job, weights = _one_output_jobs()[job]
    estimator.set_params(max_iter=8, tol=None)
    one = _quiet(clone(estimator).set_params(n_jobs=1).fit, X_job, y_job,
                 sample_weight=weights)
    monkeypatch.setattr(_engine, "PIPELINE_MIN_BYTES", 0)
    for _ in range(3):  # (which thread reads which block varies from run to run)
        two = _quiet(clone(estimator).set_params(n_jobs=2).fit, X_job, y_job,
                     sample_weight=weights)
        _assert_same_model(two, one)
    if hasattr(one, "predict_proba"):
        np.testing.assert_array_equal(two.predict_proba(X_job[:50]),
                                      one.predict_proba(X_job[:50]))


def test_n_jobs_2_for_one_output_on_x_above_the_threshold():
    # the default threshold (16 MB): a 19.2 MB X is gathered by the second thread
    rng = np.random.default_rng(1)
    X = rng.standard_normal((60_000, 40))
    y = X @ np.linspace(-1, 1, 40)
    one = SGDRegressor(max_iter=3, tol=None, random_state=0).fit(X, y)
    two = SGDRegressor(max_iter=3, tol=None, random_state=0, n_jobs=2).fit(X, y)
    _assert_same_model(two, one)
    assert one.score(X, y) > 0.99


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("d", [1, 3, 10, 33, 1000])
def test_read_rows_reads_every_value_of_the_rows_it_is_given(dtype, d):
    # the floor of benchmarks/floor.py: the sum of every value read (and of a CSR
    # row's indices), in any order, with rows repeated or left out, rows of every
    # width and alignment
    rng = np.random.default_rng(d)
    X = rng.integers(-8, 9, (500, d)).astype(dtype)  # (sums exact in either type)
    order = rng.integers(0, 500, 700).astype(np.intp)
    empty = np.empty(0, dtype=np.int32)
    assert _engine.read_rows(X.ravel(), empty, empty, False, d, order) == X[order].sum()
    X_csr = sp.csr_matrix(np.where(rng.random(X.shape) < 0.3, X, 0))
    expected = X_csr[order].sum() + sum(X_csr[i].indices.sum() for i in order)
    assert _engine.read_rows(X_csr.data, X_csr.indices, X_csr.indptr, True, d,
                             order) == expected
    with pytest.raises(ValueError, match="row numbers of X"):
        _engine.read_rows(X.ravel(), empty, empty, False, d, np.array([0, 500]))


def test_fits_in_threads_equal_fits_one_after_another(multiclass):
    jobs = _jobs(*multiclass) * 2
    one_after_another = [_fit(job) for job in jobs]
    with ThreadPoolExecutor(max_workers=4) as pool:
        at_once = list(pool.map(_fit, jobs))
    for a, b in zip(at_once, one_after_another):
        _assert_same_model(a, b)


def test_fit_releases_the_gil():
    # while a thread fits (a few long epochs), the main thread keeps running Python
    rng = np.random.default_rng(0)
    X_wide = rng.standard_normal((500, 20_000), dtype=np.float32)
    y_wide = np.arange(500) % 50
    model = SGDClassifier(max_iter=3, tol=None, random_state=0)
    worker = threading.Thread(target=model.fit, args=(X_wide, y_wide))
    ticks = [time.perf_counter()]
    worker.start()
    while worker.is_alive():
        time.sleep(0.001)
        ticks.append(time.perf_counter())
    worker.join()
    fit_time, longest_wait = ticks[-1] - ticks[0], np.diff(ticks).max()
    # holding the GIL through an epoch would stall the main thread for a third of
    # the fit
    assert hasattr(model, "coef_") and longest_wait < fit_time / 6, (longest_wait, fit_time)


def test_an_estimator_shared_between_threads_predicts_safely(multiclass):
    X_mc, y_mc = multiclass
    model = SGDClassifier(loss="log_loss", random_state=0).fit(X_mc, y_mc)
    chunks = np.array_split(X_mc, 40)
    expected = [(model.predict(c), model.predict_proba(c), model.decision_function(c))
                for c in chunks]
    with ThreadPoolExecutor(max_workers=8) as pool:
        got = list(pool.map(lambda c: (model.predict(c), model.predict_proba(c),
                                       model.decision_function(c)), chunks * 5))
    for i, result in enumerate(got):
        for a, b in zip(result, expected[i % len(chunks)]):
            np.testing.assert_array_equal(a, b)


# -- 5. memory: no copy of X ----------------------------------------------------------
def _peak_fit_memory(model, X_fit, y_fit):
    tracemalloc.start()
    try:
        _quiet(model.fit, X_fit, y_fit)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _nbytes(X_fit):
    if sp.issparse(X_fit):
        return X_fit.data.nbytes + X_fit.indices.nbytes + X_fit.indptr.nbytes
    return X_fit.nbytes


@pytest.mark.parametrize("kind", ["float64", "float32", "CSR float64", "CSR float32"])
@pytest.mark.parametrize("model", [SGDClassifier(max_iter=2, tol=None, random_state=0),
                                   SGDRegressor(max_iter=2, tol=None, random_state=0)])
def test_fit_makes_no_copy_of_X(kind, model):
    rng = np.random.default_rng(0)
    dtype = np.float32 if kind.endswith("32") else np.float64
    X_fit = rng.standard_normal((20_000, 100)).astype(dtype)
    if kind.startswith("CSR"):
        X_fit = sp.csr_matrix(np.where(X_fit > 1.0, X_fit, 0))
    y_fit = np.arange(20_000) % 3 if isinstance(model, SGDClassifier) else rng.random(20_000)
    peak = _peak_fit_memory(clone(model), X_fit, y_fit)
    # per-row bookkeeping (row order, weights, labels) only: a copy would be >= 100%
    assert peak < 0.25 * _nbytes(X_fit), f"peak {peak / _nbytes(X_fit):.0%} of X"


def test_the_memory_measure_sees_a_copy():
    # the same measure, on input that must be converted: it sees the copy
    X_fit = np.asfortranarray(np.random.default_rng(0).standard_normal((20_000, 100)))
    peak = _peak_fit_memory(SGDRegressor(max_iter=2, tol=None), X_fit, X_fit[:, 0])
    assert peak >= X_fit.nbytes


# -- 6. persistence -----------------------------------------------------------------
PERSISTED = [
    SGDClassifier(loss="log_loss", average=True, random_state=0),
    SGDClassifier(loss=LogLoss(), penalty="elasticnet", random_state=0),
    SGDClassifier(loss=Hinge(), early_stopping=True, random_state=0),
    SGDClassifier(loss=MultinomialLogLoss(), average=True, random_state=0),
    SGDRegressor(loss=Huber(epsilon=1.0), random_state=0),
    SGDRegressor(average=5, random_state=0),
    Perceptron(penalty="l1", random_state=1),
    SGDOneClassSVM(nu=0.2, average=True, random_state=0),
]


def _fitted(estimator, multiclass):
    X_mc, y_mc = multiclass
    if isinstance(estimator, SGDRegressor):
        y_mc = X_mc @ np.linspace(-1, 1, X_mc.shape[1])
    return _quiet(clone(estimator).fit, X_mc, y_mc), X_mc, y_mc


def _round_trips(model):
    yield "pickle", pickle.loads(pickle.dumps(model))
    buffer = io.BytesIO()
    joblib.dump(model, buffer)
    buffer.seek(0)
    yield "joblib", joblib.load(buffer)
    dumped = sio.dumps(model)
    yield "skops", sio.loads(dumped, trusted=sio.get_untrusted_types(data=dumped))


@pytest.mark.parametrize("estimator", PERSISTED, ids=repr)
def test_persistence_round_trips_predict_identically_and_learn_on(estimator, multiclass):
    model, X_mc, y_mc = _fitted(estimator, multiclass)
    for how, loaded in _round_trips(model):
        assert_same_state(loaded, snapshot(model))
        np.testing.assert_array_equal(loaded.predict(X_mc), model.predict(X_mc), err_msg=how)
        if hasattr(model, "predict_proba"):
            np.testing.assert_array_equal(loaded.predict_proba(X_mc),
                                          model.predict_proba(X_mc), err_msg=how)
        if not model.early_stopping:
            continued = copy.deepcopy(model).partial_fit(X_mc, y_mc)
            np.testing.assert_array_equal(loaded.partial_fit(X_mc, y_mc).coef_,
                                          continued.coef_, err_msg=how)


@pytest.mark.parametrize("estimator", PERSISTED, ids=repr)
def test_skops_trusts_only_our_classes(estimator, multiclass):
    model, _, _ = _fitted(estimator, multiclass)
    expected = [f"{type(model).__module__}.{type(model).__name__}"]
    if not isinstance(model.loss, str):
        expected.append(f"sklloss.losses._loss.{type(model.loss).__name__}")
    assert sorted(sio.get_untrusted_types(data=sio.dumps(model))) == sorted(expected)


# -- 7. fuzzing ---------------------------------------------------------------------
@contextmanager
def no_hang(seconds=20.0):
    """Fail (rather than hang) when the body runs for more than `seconds`: the engine
    looks at signals, so the alarm interrupts a fit too. (Windows has no alarm: there
    pytest's faulthandler_timeout bounds a hang.)"""
    if not hasattr(signal, "setitimer"):
        yield
        return

    def timeout(signum, frame):
        raise TimeoutError(f"a call ran for more than {seconds} s")
    previous = signal.signal(signal.SIGALRM, timeout)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@POSIX_SIGNALS
def test_any_signal_handler_exception_stops_a_fit_and_changes_nothing():
    # in-process twin of the Ctrl-C test: an alarm whose handler raises
    rng = np.random.default_rng(0)
    X_long = rng.standard_normal((20_000, 50))
    model = _quiet(SGDRegressor(random_state=0).partial_fit, X_long, X_long[:, 0])
    model.set_params(max_iter=10**9, tol=None)
    before = snapshot(model)
    with pytest.raises(TimeoutError), no_hang(0.5):
        model.fit(X_long, X_long[:, 0])  # uninterrupted: days
    assert_same_state(model, before)


# every loss each estimator takes, by name, and a few as objects
CLASSIFIER_LOSSES = [*loss_lists.CLASSIFIER, LogLoss(), Hinge(), MultinomialLogLoss()]
REGRESSOR_LOSSES = [*loss_lists.REGRESSOR, Huber(epsilon=0.5)]


@st.composite
def problems(draw):
    classifier = draw(st.booleans())
    n = draw(st.integers(1, 25))
    d = draw(st.integers(1, 6))
    scale = draw(st.sampled_from([1.0, 1e-30, 1e3, 1e15]))
    values = draw(st.lists(st.floats(-1, 1, allow_nan=False, width=32), min_size=n * d,
                           max_size=n * d))
    X_p = np.array(values, dtype=np.float64).reshape(n, d) * scale
    X_p[np.abs(X_p) < draw(st.sampled_from([0.0, 0.5, 1.0])) * scale] = 0.0  # sparsity
    bad = None
    if draw(st.integers(0, 9)) == 0:
        bad = draw(st.sampled_from(["nan in X", "inf in X", "nan in y", "negative weight",
                                    "nan in weight"]))
    if bad in ("nan in X", "inf in X"):
        X_p[draw(st.integers(0, n - 1)), draw(st.integers(0, d - 1))] = (
            np.nan if bad == "nan in X" else -np.inf)
    if classifier:
        n_labels = draw(st.integers(1, 4))
        codes = np.array(draw(st.lists(st.integers(0, n_labels - 1), min_size=n,
                                       max_size=n)))
        label_kind = draw(st.sampled_from(["int", "str", "float", "bool"]))
        if label_kind == "str":
            y_p = np.array(["ant", "bee", "cat", "dog"])[codes]
        elif label_kind == "bool":
            y_p = codes % 2 == 1
        else:
            y_p = codes.astype(float if label_kind == "float" else int)
    else:
        y_p = (X_p.sum(axis=1) + np.array(draw(st.lists(
            st.floats(-1, 1, width=32), min_size=n, max_size=n)))) * draw(
                st.sampled_from([1.0, 1e3, 1e-3]))
    if bad == "nan in y":
        y_p = codes.astype(float) if classifier else y_p
        y_p[0] = np.nan
    weights = draw(st.sampled_from([None, "random", "zeros", "ones"]))
    sample_weight = {None: None, "ones": np.ones(n), "zeros": np.zeros(n),
                     "random": np.array(draw(st.lists(st.floats(0, 5, width=32),
                                                      min_size=n, max_size=n)))}[weights]
    if bad in ("negative weight", "nan in weight"):
        sample_weight = np.ones(n)
        sample_weight[-1] = -1.0 if bad == "negative weight" else np.nan
    container = draw(st.sampled_from(["C", "F", "csr", "csc", "coo", "list", "DataFrame",
                                      "float32", "int", "bool"]))
    X_in = {"C": X_p, "F": np.asfortranarray(X_p), "csr": sp.csr_matrix(X_p),
            "csc": sp.csc_array(X_p), "coo": sp.coo_matrix(X_p), "list": X_p.tolist(),
            "DataFrame": pd.DataFrame(X_p, columns=[f"f{j}" for j in range(d)]),
            "float32": X_p.astype(np.float32),
            "int": np.nan_to_num(X_p).astype(np.int64) if bad is None else X_p,
            "bool": X_p > 0 if bad is None else X_p}[container]
    losses = CLASSIFIER_LOSSES if classifier else REGRESSOR_LOSSES
    params = dict(
        loss=draw(st.sampled_from(losses)),
        penalty=draw(st.sampled_from(["l2", "l1", "elasticnet", None])),
        alpha=draw(st.sampled_from([1e-6, 1e-4, 0.1, 10.0])),
        learning_rate=draw(st.sampled_from(["optimal", "constant", "invscaling", "adaptive"])),
        eta0=draw(st.sampled_from([1e-4, 0.01, 1.0, 100.0])),
        power_t=draw(st.sampled_from([0.25, 0.5, 1.0])),
        average=draw(st.sampled_from([False, True, 3])),
        fit_intercept=draw(st.booleans()),
        max_iter=draw(st.integers(1, 6)),
        tol=draw(st.sampled_from([None, 1e-3])),
        shuffle=draw(st.booleans()),
        early_stopping=draw(st.booleans()),
        random_state=draw(st.integers(0, 3)),
    )
    if classifier:
        params["class_weight"] = draw(st.sampled_from([None, "balanced"]))
        params["n_jobs"] = draw(st.sampled_from([None, 2]))
    method = draw(st.sampled_from(["fit", "partial_fit"]))
    if method == "partial_fit":
        params["early_stopping"] = False
        params.pop("class_weight", None)
    Estimator = SGDClassifier if classifier else SGDRegressor
    return Estimator(**params), method, X_in, y_p, sample_weight, bad


@settings(max_examples=300, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(problem=problems())
def test_fuzz_either_a_clear_error_or_a_finite_model(problem):
    model, method, X_in, y_in, sample_weight, bad = problem
    before = snapshot(model)
    extra = {}
    if method == "partial_fit" and isinstance(model, SGDClassifier):
        extra["classes"] = np.unique(np.asarray(y_in))
    with warnings.catch_warnings(), no_hang():
        warnings.simplefilter("ignore")
        try:
            getattr(model, method)(X_in, y_in, sample_weight=sample_weight, **extra)
        except ValueError as error:
            assert str(error)
            assert_same_state(model, before)
            return
        assert bad is None, f"{bad} was accepted"
        n = len(y_in)
        assert np.all(np.isfinite(model.coef_)) and np.all(np.isfinite(model.intercept_))
        prediction = model.predict(X_in)
        decision = (model.decision_function(X_in) if isinstance(model, SGDClassifier)
                    else prediction)
        assert np.all(np.isfinite(decision))
        if isinstance(model, SGDClassifier):
            assert prediction.shape == (n,) and prediction.dtype == model.classes_.dtype
            assert set(prediction) <= set(model.classes_)
            expected = (n,) if len(model.classes_) == 2 else (n, len(model.classes_))
            assert decision.shape == expected
            if hasattr(model, "predict_proba"):
                proba = model.predict_proba(X_in)
                assert proba.shape == (n, len(model.classes_))
                assert np.all((proba >= 0) & (proba <= 1))
                np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
        else:
            assert prediction.shape == (n,)
            assert prediction.dtype == model.coef_.dtype
