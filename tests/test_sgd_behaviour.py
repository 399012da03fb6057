"""SGDClassifier / SGDRegressor behaviour: partial_fit, formats, dtypes, threads, loss
objects, grid search, verbose output, warnings and attributes. (Errors, failures,
determinism, concurrency, memory and persistence: test_robustness.py.)"""
import re
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import sklearn.linear_model as sk
from sklearn.base import clone
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklloss import SGDClassifier, SGDRegressor
from sklloss.losses import EpsilonInsensitive, Hinge, Huber, LogLoss, ModifiedHuber, SquaredError


@pytest.fixture(scope="module")
def multiclass():
    X, y = make_classification(400, 12, n_informative=6, n_classes=4, random_state=0)
    return StandardScaler().fit_transform(X), y


@pytest.fixture(scope="module")
def regression():
    X, y = make_regression(400, 12, noise=3.0, random_state=0)
    return StandardScaler().fit_transform(X), y


def _quiet(function, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return function(*args, **kwargs)


# -- partial_fit: one epoch per call over the given rows, as scikit-learn documents --
@pytest.mark.parametrize("average", [False, True])
@pytest.mark.parametrize("schedule", ["optimal", "invscaling", "constant"])
def test_partial_fit_chunks_equal_one_epoch_of_fit(multiclass, regression, schedule, average):
    for Estimator, (X, y) in [(SGDClassifier, multiclass), (SGDRegressor, regression)]:
        # (alpha = 1 keeps 'optimal' stable on the regression loss: steps start at 1)
        params = dict(shuffle=False, learning_rate=schedule, eta0=0.01,
                      alpha=1.0 if schedule == "optimal" else 1e-3, average=average)
        for n_epochs in (1, 3):
            fitted = _quiet(Estimator(max_iter=n_epochs, tol=None, **params).fit, X, y)
            chunked = Estimator(**params)
            for _ in range(n_epochs):
                for chunk in np.array_split(np.arange(len(y)), 7):
                    extra = {"classes": np.unique(y)} if Estimator is SGDClassifier else {}
                    chunked.partial_fit(X[chunk], y[chunk], **extra)
            # each call folds the L2 scale into the weights: rounding, nothing more
            np.testing.assert_allclose(chunked.coef_, fitted.coef_, rtol=1e-9, atol=1e-12)
            np.testing.assert_allclose(chunked.intercept_, fitted.intercept_, rtol=1e-9)
            assert chunked.t_ == fitted.t_ == n_epochs * len(y) + 1


def test_partial_fit_matches_sklearn_partial_fit(regression):
    X, y = regression
    ours, theirs = SGDRegressor(random_state=0), sk.SGDRegressor(random_state=0)
    for chunk in np.array_split(np.arange(len(y)), 4):
        ours.partial_fit(X[chunk], y[chunk])
        theirs.partial_fit(X[chunk], y[chunk])
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=1e-10)
    assert ours.n_iter_ == theirs.n_iter_ == 1 and ours.t_ == theirs.t_


# -- data formats, dtypes and threads -------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_dense_and_csr_agree_exactly_without_intercept(multiclass, regression, dtype):
    for Estimator, (X, y) in [(SGDClassifier, multiclass), (SGDRegressor, regression)]:
        X = X.astype(dtype)
        X[np.abs(X) < 0.5] = 0.0  # a truly sparse matrix
        # (not L1: like scikit-learn, a dense row truncates all d weights, a sparse row
        # only those of its non-zeros)
        for penalty in ("l2", None):
            params = dict(fit_intercept=False, random_state=0, penalty=penalty, max_iter=20)
            dense = _quiet(Estimator(**params).fit, X, y)
            csr = _quiet(Estimator(**params).fit, sp.csr_matrix(X), y)
            # the same rows in the same order; only the dot products' summation order
            # differs (dense: 4 partial sums)
            rtol = 1e-4 if dtype == np.float32 else 1e-9
            np.testing.assert_allclose(csr.coef_, dense.coef_, rtol=rtol,
                                       atol=rtol * np.abs(dense.coef_).max())
            assert csr.n_iter_ == dense.n_iter_


def test_dense_and_csr_agree_in_quality_with_intercept(multiclass):
    X, y = multiclass
    dense = SGDClassifier(random_state=0).fit(X, y)
    csr = SGDClassifier(random_state=0).fit(sp.csr_matrix(X), y)
    assert abs(dense.score(X, y) - csr.score(X, y)) < 0.05


@pytest.mark.parametrize("Estimator", [SGDClassifier, SGDRegressor])
def test_float32_stays_float32_and_agrees_with_float64(multiclass, regression, Estimator):
    X, y = multiclass if Estimator is SGDClassifier else regression
    params = dict(random_state=0, max_iter=5, tol=None, learning_rate="constant",
                  eta0=0.001)
    f64 = Estimator(**params).fit(X, y)
    f32 = Estimator(**params).fit(X.astype(np.float32), y)
    assert f32.coef_.dtype == np.float32 and f64.coef_.dtype == np.float64
    assert f32.intercept_.dtype == np.float32
    scale = np.abs(f64.coef_).max()
    np.testing.assert_allclose(f32.coef_, f64.coef_, rtol=1e-4, atol=1e-5 * scale)
    assert f32.predict(X.astype(np.float32)).dtype == (
        y.dtype if Estimator is SGDClassifier else np.float32)


def test_one_vs_rest_is_one_pass_with_per_class_stopping(multiclass):
    # each output stops on its own objective; n_iter_ is the largest, as in scikit-learn
    X, y = multiclass
    clf = SGDClassifier(random_state=0, shuffle=False).fit(X, y)
    reference = sk.SGDClassifier(random_state=0, shuffle=False).fit(X, y)
    assert clf.n_iter_ == reference.n_iter_
    np.testing.assert_allclose(clf.coef_, reference.coef_, rtol=1e-7, atol=1e-9)


# -- loss objects ------------------------------------------------------------------
@pytest.mark.parametrize("loss_object, name, epsilon", [
    (Huber(epsilon=2.0), "huber", 2.0), (SquaredError(), "squared_error", 0.1),
    (EpsilonInsensitive(epsilon=0.5), "epsilon_insensitive", 0.5),
])
def test_regression_loss_object_equals_name_and_epsilon(regression, loss_object, name,
                                                        epsilon):
    X, y = regression
    by_object = SGDRegressor(loss=loss_object, random_state=0).fit(X, y)
    by_name = SGDRegressor(loss=name, epsilon=epsilon, random_state=0).fit(X, y)
    np.testing.assert_array_equal(by_object.coef_, by_name.coef_)


@pytest.mark.parametrize("loss_object, name", [
    (Hinge(), "hinge"), (LogLoss(), "log_loss"), (ModifiedHuber(), "modified_huber")])
def test_classification_loss_object_equals_name(multiclass, loss_object, name):
    X, y = multiclass
    by_object = SGDClassifier(loss=loss_object, random_state=0).fit(X, y)
    by_name = SGDClassifier(loss=name, random_state=0).fit(X, y)
    np.testing.assert_array_equal(by_object.coef_, by_name.coef_)
    assert hasattr(by_object, "predict_proba") == (name != "hinge")
    assert by_object.loss_function_ == name


def test_loss_objects_clone_and_set_params():
    estimator = SGDRegressor(loss=Huber(epsilon=2.0))
    copy = clone(estimator)
    assert copy.get_params()["loss"] == Huber(epsilon=2.0)
    assert copy.get_params()["loss"] is not estimator.loss
    copy.set_params(loss=Huber(epsilon=3.0))
    assert estimator.loss.epsilon == 2.0 and copy.loss.epsilon == 3.0
    assert "Huber(epsilon=2.0)" in repr(estimator)


def test_grid_search_over_losses_in_a_pipeline_with_two_jobs(multiclass, regression):
    X, y = multiclass
    grid = {"sgdclassifier__loss": ["hinge", "log_loss", LogLoss(), ModifiedHuber()]}
    pipeline = make_pipeline(StandardScaler(), SGDClassifier(random_state=0))
    parallel = GridSearchCV(pipeline, grid, cv=3, n_jobs=2).fit(X, y)
    serial = GridSearchCV(pipeline, grid, cv=3, n_jobs=1).fit(X, y)
    np.testing.assert_array_equal(parallel.cv_results_["mean_test_score"],
                                  serial.cv_results_["mean_test_score"])
    # a name and the equivalent object score the same
    scores = parallel.cv_results_["mean_test_score"]
    assert scores[1] == scores[2]
    X, y = regression
    grid = {"sgdregressor__loss": ["squared_error", Huber(epsilon=0.5), Huber(epsilon=5.0)]}
    search = GridSearchCV(make_pipeline(StandardScaler(), SGDRegressor(random_state=0)),
                          grid, cv=3, n_jobs=2).fit(X, y)
    assert search.best_score_ > 0.9


# -- verbose, warnings, attributes ---------------------------------------------------
def test_verbose_prints_a_line_per_epoch(regression, capsys):
    X, y = regression
    reg = SGDRegressor(verbose=1, max_iter=4, tol=None, random_state=0).fit(X, y)
    out = capsys.readouterr().out
    assert out.count("-- Epoch") == 4
    lines = [line for line in out.splitlines() if line.startswith("Norm:")]
    assert len(lines) == 4
    norm, bias = re.match(r"Norm: ([\d.]+), NNZs: \d+, Bias: (-?[\d.]+), T: (\d+), "
                          r"Avg. loss: [\d.]+", lines[-1]).groups()[:2]
    assert float(norm) == pytest.approx(np.linalg.norm(reg.coef_), abs=0.01)
    assert float(bias) == pytest.approx(reg.intercept_[0], abs=1e-6)
    assert lines[-1].split("T: ")[1].startswith(str(4 * len(y)))


def test_convergence_warning_when_max_iter_is_reached(regression):
    X, y = regression
    with pytest.warns(ConvergenceWarning, match="Maximum number of iteration reached"):
        SGDRegressor(max_iter=2).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        SGDRegressor(max_iter=2, tol=None).fit(X, y)


def test_attributes_match_sklearn(multiclass):
    X, y = multiclass
    labels = np.array(["ant", "bee", "cat", "dog"])[y]
    ours = SGDClassifier(random_state=0).fit(X, labels)
    theirs = sk.SGDClassifier(random_state=0).fit(X, labels)
    for name in ("classes_", "n_features_in_"):
        np.testing.assert_array_equal(getattr(ours, name), getattr(theirs, name))
    for name in ("coef_", "intercept_"):
        assert getattr(ours, name).shape == getattr(theirs, name).shape
    assert set(ours.predict(X)) <= set(labels)
    assert ours.sparsify().coef_.format == "csr" and sp.issparse(ours.coef_)
    np.testing.assert_array_equal(ours.predict(X), ours.densify().predict(X))


def test_partial_fit_continues_after_sparsify_and_after_switching_on_averaging(multiclass):
    X, y = multiclass
    dense = SGDClassifier(random_state=0).fit(X, y)
    sparsified = SGDClassifier(random_state=0).fit(X, y).sparsify()
    np.testing.assert_array_equal(sparsified.partial_fit(X, y).coef_,
                                  dense.partial_fit(X, y).coef_)
    averaged = dense.set_params(average=True).partial_fit(X, y)
    assert averaged.coef_.shape == (4, X.shape[1]) and np.all(np.isfinite(averaged.coef_))
