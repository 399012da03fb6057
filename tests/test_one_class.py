"""SGDOneClassSVM against scikit-learn's: the same path, the same model, the same API.

Independent truths: scikit-learn's own SGDOneClassSVM from the same random_state (the
same row order and updates, so coef_ and offset_ up to floating-point rounding, every
schedule, averaging, weights, dense and CSR, float64 and float32), the closed form of
the decision function, and properties (a failed call changes nothing, threads give
what one after another gives).
"""
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import scipy.sparse as sp
import sklearn.linear_model as sk
from sklearn.exceptions import ConvergenceWarning

from model_state import assert_same_state, snapshot
from sklloss import SGDOneClassSVM

SETTINGS = [
    dict(),
    dict(nu=0.1, learning_rate="constant", eta0=0.01),
    dict(nu=0.9, learning_rate="invscaling", eta0=0.1, average=30),
    dict(learning_rate="adaptive", eta0=0.05, average=True),
    dict(nu=0.3, fit_intercept=False, tol=None, max_iter=7),
    dict(shuffle=False, nu=1.0),
]


@pytest.fixture(scope="module")
def data():
    rng = np.random.RandomState(0)
    X = np.vstack([rng.randn(250, 6) * 0.7 + 1.5, rng.uniform(-4, 4, (50, 6))])
    return X, rng.uniform(0.2, 3.0, X.shape[0])


def _tolerances(dtype):
    # those of test_sgd_vs_sklearn: the dense dot product sums in another order than
    # scikit-learn's, and float32 rounds its 24-bit steps, over the whole fit
    return (1e-4, 1e-6) if dtype == np.float32 else (1e-7, 1e-9)


def _assert_same_model(ours, theirs, spread=0.0):
    """`spread`: a further absolute tolerance (see test_fit_follows_sklearn_path)."""
    rtol, atol = _tolerances(theirs.coef_.dtype)
    scale = max(1.0, np.abs(theirs.coef_).max())
    atol = max(atol, spread / scale)
    assert ours.coef_.shape == theirs.coef_.shape and ours.coef_.dtype == theirs.coef_.dtype
    assert ours.offset_.shape == theirs.offset_.shape == (1,)
    assert ours.offset_.dtype == theirs.offset_.dtype
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=rtol, atol=atol * scale)
    np.testing.assert_allclose(ours.offset_, theirs.offset_, rtol=rtol,
                               atol=atol * max(1.0, abs(theirs.offset_[0])))
    assert ours.n_iter_ == theirs.n_iter_ and ours.t_ == theirs.t_


def _both(params, call, *args, **kwargs):
    ours, theirs = SGDOneClassSVM(**params), sk.SGDOneClassSVM(**params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        getattr(ours, call)(*args, **kwargs)
        getattr(theirs, call)(*args, **kwargs)
    return ours, theirs


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("params", SETTINGS, ids=repr)
def test_fit_follows_sklearn_path(data, params, dtype, sparse):
    X, sample_weight = data
    X = X.astype(dtype)
    X = sp.csr_matrix(X) if sparse else X
    for weights in (None, sample_weight):
        ours, theirs = _both(dict(params, random_state=3), "fit", X,
                             sample_weight=weights)
        spread = 0.0
        if dtype == np.float32 and params.get("average"):
            # averaged SGD in float32 amplifies rounding (the running average's
            # (aw + a v) / b): scikit-learn's own float32 model is that far from its
            # float64 one; ours must be as close to its float32 model, within 3 times that
            reference = sk.SGDOneClassSVM(**dict(params, random_state=3)).fit(
                X.astype(np.float64), sample_weight=weights)
            spread = 3 * max(np.abs(theirs.coef_ - reference.coef_).max(),
                             np.abs(theirs.offset_ - reference.offset_).max())
        _assert_same_model(ours, theirs, spread)
        # the scores: within what the coefficients' tolerance allows,
        # |<dw, x>| + |d offset| <= max |dw| (||x||_1 + 1)
        rtol, atol = _tolerances(dtype)
        atol_scores = 10 * atol + spread * (abs(X).sum(axis=1).max() + 1)
        for method in ("decision_function", "score_samples"):
            np.testing.assert_allclose(getattr(ours, method)(X), getattr(theirs, method)(X),
                                       rtol=rtol, atol=atol_scores)
        # and a row may be predicted otherwise only where its score is that close to 0
        differ = ours.predict(X) != theirs.predict(X)
        assert np.all(np.abs(theirs.decision_function(X)[differ]) <= atol_scores + 1e-6)
        assert ours.predict(X).dtype == np.int32


def test_decision_function_is_the_closed_form(data):
    X, _ = data
    model = SGDOneClassSVM(random_state=0).fit(X)
    expected = X @ model.coef_ - model.offset_[0]
    np.testing.assert_allclose(model.decision_function(X), expected, rtol=1e-12)
    np.testing.assert_allclose(model.score_samples(X), X @ model.coef_, rtol=1e-12)
    np.testing.assert_array_equal(model.predict(X), np.where(expected >= 0, 1, -1))
    np.testing.assert_array_equal(model.fit_predict(X), model.predict(X))
    # and it separates the cloud from the uniform noise around it
    assert (model.predict(X[:250]) == 1).mean() > (model.predict(X[250:]) == 1).mean() + 0.3


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
@pytest.mark.parametrize("average", [False, 40])
def test_partial_fit_stream_and_warm_start_follow_sklearn(data, average, sparse):
    X, sample_weight = data
    X = sp.csr_matrix(X) if sparse else X
    params = dict(nu=0.2, random_state=1, average=average, learning_rate="invscaling",
                  eta0=0.05)
    ours, theirs = SGDOneClassSVM(**params), sk.SGDOneClassSVM(**params)
    for chunk in np.array_split(np.arange(X.shape[0]), 5):
        ours.partial_fit(X[chunk], sample_weight=sample_weight[chunk])
        theirs.partial_fit(X[chunk], sample_weight=sample_weight[chunk])
        _assert_same_model(ours, theirs)
    ours, theirs = _both(dict(params, warm_start=True, max_iter=3, tol=None), "fit", X)
    for model in (ours, theirs):
        model.set_params(nu=0.6)
        model.fit(X)
    _assert_same_model(ours, theirs)
    init = dict(coef_init=np.full(X.shape[1], 0.1), offset_init=np.array([0.5]))
    _assert_same_model(*_both(dict(params, max_iter=4, tol=None), "fit", X, **init))


def test_a_failed_call_changes_nothing(data):
    X, _ = data
    model = SGDOneClassSVM(random_state=0, max_iter=5, tol=None).fit(X)
    before = snapshot(model)
    X_nan = X.copy()
    X_nan[3, 2] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        model.partial_fit(X_nan)
    with pytest.raises(ValueError, match="2 features"):
        model.partial_fit(X[:, :2])
    with pytest.raises(ValueError, match=r"overflow occurred at epoch #1\."):
        model.set_params(learning_rate="constant", eta0=1e3).partial_fit(X * 1e200)
    model.set_params(learning_rate="optimal", eta0=0.01)
    with pytest.raises(ValueError, match="offset_init does not match"):
        model.fit(X, offset_init=np.zeros(3))
    with pytest.raises(ValueError, match="only works with loss 'epsilon_insensitive'"):
        model.set_params(learning_rate="pa1").fit(X)
    model.set_params(learning_rate="optimal")
    assert_same_state(model, before)
    # and what follows is what it would have been
    fresh = SGDOneClassSVM(random_state=0, max_iter=5, tol=None).fit(X)
    np.testing.assert_array_equal(model.partial_fit(X).coef_, fresh.partial_fit(X).coef_)


def test_fits_in_threads_equal_fits_one_after_another(data):
    X, _ = data
    X_big = np.tile(X, (20, 1))
    jobs = [dict(nu=nu, random_state=seed, max_iter=20, tol=None)
            for nu in (0.1, 0.5) for seed in (0, 1)]

    def fit(params):
        return SGDOneClassSVM(**params).fit(X_big)

    one_after_another = [fit(params) for params in jobs]
    with ThreadPoolExecutor(max_workers=4) as pool:
        at_once = list(pool.map(fit, jobs))
    for a, b in zip(at_once, one_after_another):
        np.testing.assert_array_equal(a.coef_, b.coef_)
        np.testing.assert_array_equal(a.offset_, b.offset_)


def _one_class_sgd(X, nu, eta, epochs):
    """The one-class SGD written out (rows in order, a constant step, no averaging):
    w, b and per epoch the mean over the rows of the objective max(0, 1 - <w, x> - b)
    + nu / 2 ||w||^2 + nu b at the weights each row met."""
    w, b, curve = np.zeros(X.shape[1]), 1.0, []
    for _ in range(epochs):
        total = 0.0
        for x in X:
            p = w @ x + b
            total += max(0.0, 1.0 - p) + nu / 2 * (w @ w) + nu * b
            step = eta if p <= 1.0 else 0.0  # -eta times the hinge's derivative
            w = max(0.0, 1.0 - eta * nu) * w + step * x
            b += step - eta * nu
        curve.append(total / X.shape[0])
    return w, b, curve


@pytest.mark.parametrize("nu", [0.05, 0.5])
def test_the_model_and_the_objective_are_those_of_the_one_class_problem(data, nu):
    X, _ = data
    w, b, curve = _one_class_sgd(X, nu, 0.01, 4)
    model = SGDOneClassSVM(nu=nu, learning_rate="constant", eta0=0.01, shuffle=False,
                           max_iter=4, tol=None).fit(X)
    np.testing.assert_allclose(model.coef_, w, rtol=1e-10)
    np.testing.assert_allclose(model.offset_, [1.0 - b], rtol=1e-10)
    # loss_curve_ is the objective tol watches
    np.testing.assert_allclose(model.loss_curve_, curve, rtol=1e-10)
    assert model.best_loss_ == min(model.loss_curve_)
