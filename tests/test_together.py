"""fit_together: estimators fitted in shared engine calls end exactly as each fitted
alone (every fitted attribute, bit for bit; the same error for a fit that fails), in
fewer engine calls."""
import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.datasets import make_classification, make_regression

from sklloss import SGDClassifier, SGDOneClassSVM, SGDRegressor
from sklloss.linear_model import _engine
from sklloss.linear_model._together import fit_together

from model_state import assert_same_state, snapshot

ATTRIBUTES = ("coef_", "intercept_", "offset_", "n_iter_", "t_", "loss_curve_",
              "validation_scores_", "best_loss_", "best_validation_score_", "classes_",
              "loss_function_", "_average_coef", "_standard_coef", "_step_state")


def _same(a, b):
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)
                and a.dtype == b.dtype and np.array_equal(a, b, equal_nan=True))
    return type(a) is type(b) and (a == b or (a != a and b != b))


def _assert_fitted_alike(together, alone):
    for name in ATTRIBUTES:
        assert hasattr(together, name) == hasattr(alone, name), name
        if hasattr(alone, name):
            assert _same(getattr(together, name), getattr(alone, name)), name


def _classifiers(rng, n):
    losses = ["hinge", "log_loss", "modified_huber", "squared_hinge", "perceptron",
              "squared_error", "huber", "multinomial_log_loss"]
    for i in range(n):
        yield SGDClassifier(
            loss=losses[i % len(losses)], alpha=float(10.0 ** rng.uniform(-5, -2)),
            penalty=["l2", "l1", "elasticnet", None][rng.randint(4)],
            learning_rate=["optimal", "constant", "invscaling", "adaptive", "adagrad",
                           "normalized_adagrad"][rng.randint(6)],
            eta0=float(10.0 ** rng.uniform(-3, -1)), average=bool(rng.randint(2)),
            n_iter_no_change=int(rng.randint(1, 6)), max_iter=30, random_state=0,
            class_weight=[None, "balanced"][rng.randint(2)])


def _regressors(rng, n, positive):
    losses = (["poisson", "gamma", "tweedie", "squared_error", "huber", "quantile",
               "absolute_error"] if positive else
              ["squared_error", "huber", "epsilon_insensitive",
               "squared_epsilon_insensitive", "quantile", "absolute_error"])
    for i in range(n):
        yield SGDRegressor(
            loss=losses[i % len(losses)], alpha=float(10.0 ** rng.uniform(-5, -2)),
            penalty=["l2", "l1", "elasticnet", None][rng.randint(4)],
            learning_rate=["optimal", "constant", "invscaling", "adaptive", "adagrad"][
                rng.randint(5)],
            eta0=float(10.0 ** rng.uniform(-3, -1)), average=bool(rng.randint(2)),
            max_iter=30, random_state=0)


def _data(task, layout, dtype):
    if task == "regression":
        X, y = make_regression(300, 8, noise=1.0, random_state=0)
        y = np.exp(0.3 * y / y.std())
    else:
        X, y = make_classification(300, 8, n_informative=5,
                                   n_classes=3 if task == "multi-class" else 2,
                                   random_state=0)
    X = X.astype(dtype)
    if layout == "csr":
        X = sp.csr_matrix(np.where(np.abs(X) > 0.5, X, 0))
    return X, y


def _check(estimators, X, y, n_threads, monkeypatch, **fit_params):
    alone = [clone(e) for e in estimators]
    errors_alone = []
    for estimator in alone:
        try:
            estimator.fit(X, y, **fit_params)
            errors_alone.append(None)
        except Exception as error:  # noqa: BLE001
            errors_alone.append((type(error), str(error)))
    calls = []
    real = _engine.fit_epochs

    def counted(*args):
        calls.append(len(args[0]))
        return real(*args)

    monkeypatch.setattr(_engine, "fit_epochs", counted)
    together = [clone(e) for e in estimators]
    before = [snapshot(e) for e in together]
    outcomes = fit_together(together, X, y, n_threads=n_threads, **fit_params)
    for estimator, outcome, error, fitted, state in zip(together, outcomes, errors_alone,
                                                         alone, before):
        if error is None:
            assert outcome is None
            _assert_fitted_alike(estimator, fitted)
        else:
            assert (type(outcome), str(outcome)) == error
            assert_same_state(estimator, state)
    return calls


@pytest.mark.parametrize("layout", ["dense", "csr"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("task", ["binary", "multi-class", "regression"])
@pytest.mark.parametrize("n_threads", [1, 2])
def test_fitted_together_as_alone(layout, dtype, task, n_threads, monkeypatch):
    rng = np.random.RandomState(len(layout) + 10 * (dtype == np.float32) + len(task))
    X, y = _data(task, layout, dtype)
    estimators = (list(_regressors(rng, 12, positive=True)) if task == "regression"
                  else list(_classifiers(rng, 12)))
    calls = _check(estimators, X, y, n_threads, monkeypatch)
    assert len(calls) < len(estimators)  # (shared calls: fewer than the fits)


def test_early_stopping_fits_share_their_calls(monkeypatch):
    X, y = _data("binary", "dense", np.float64)
    estimators = [SGDClassifier(early_stopping=True, n_iter_no_change=n, alpha=alpha,
                                random_state=0, max_iter=50)
                  for n in (2, 5) for alpha in (1e-4, 1e-3, 1e-2)]
    estimators.append(SGDClassifier(random_state=0, max_iter=50))  # (another group)
    calls = _check(estimators, X, y, 1, monkeypatch)
    assert sorted(calls) == [1, 6]


def test_a_failing_fit_fails_as_alone_and_the_others_go_on(monkeypatch):
    X, y = _data("multi-class", "dense", np.float64)
    estimators = [SGDClassifier(random_state=0, max_iter=20),
                  SGDClassifier(eta0=1e300, learning_rate="constant", penalty=None,
                                loss="squared_error", random_state=0, max_iter=20),
                  SGDClassifier(alpha=-1.0, random_state=0),       # refused before the engine
                  SGDClassifier(loss="log_loss", random_state=0, max_iter=20),
                  SGDClassifier(verbose=1, random_state=0, max_iter=3)]  # (prints: alone)
    calls = _check(estimators, X, y, 2, monkeypatch)
    assert sorted(calls) == [3, 3 + 3 + 3]


def test_weights_and_one_class_fits(monkeypatch):
    X, y = _data("regression", "csr", np.float64)
    weights = np.random.RandomState(1).uniform(0.5, 2.0, X.shape[0])
    estimators = list(_regressors(np.random.RandomState(2), 6, positive=False))
    calls = _check(estimators, X, np.log(y), 1, monkeypatch, sample_weight=weights)
    assert len(calls) < len(estimators)
    one_class = [SGDOneClassSVM(nu=nu, random_state=0, max_iter=20)
                 for nu in (0.1, 0.3, 0.5)]
    calls = _check(one_class, X, None, 1, monkeypatch)
    assert calls == [3]


@pytest.mark.parametrize("n_threads", [1, 2])
def test_csr_fits_whose_models_fill_a_job_share_calls_only_across_threads(n_threads,
                                                                          monkeypatch):
    # 2^17 float64 weights (1 MiB) a model: the engine gives each its own job over CSR
    # rows (_engine.SPARSE_JOB_BYTES); one thread runs such fits one by one
    d = 1 << 17
    assert _engine.sparse_models_per_job(d * 8) == 1
    assert _engine.sparse_models_per_job(d * 4) == 2  # (float32: two to a job)
    rng = np.random.RandomState(3)
    X = sp.random(200, d, density=20 / d, format="csr", random_state=rng)
    y = (X @ rng.standard_normal(d) > 0).astype(int)
    estimators = [SGDClassifier(loss=loss, alpha=alpha, max_iter=5, tol=None, random_state=0)
                  for loss in ("hinge", "log_loss") for alpha in (1e-4, 1e-3)]
    calls = _check(estimators, X, y, n_threads, monkeypatch)
    assert calls == ([1, 1, 1, 1] if n_threads == 1 else [4])
    # (float32 rows: two models to a job, the fits share a call in one thread too)
    calls = _check(estimators, X.astype(np.float32), y, 1, monkeypatch)
    assert calls == [4]
