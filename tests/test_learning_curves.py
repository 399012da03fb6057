"""loss_curve_, validation_scores_, best_loss_, best_validation_score_ (the names of
scikit-learn's MLP), recorded by the engine as it goes.

Independent truths: the objective replayed row by row from the loss kernels at the
weights each row was learned with; scikit-learn's own printed objective; the
estimator's score on the held-out rows.
"""
import re
import warnings

import numpy as np
import pytest
import sklearn.linear_model as sk
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import ShuffleSplit, StratifiedShuffleSplit

from sklloss import SGDClassifier, SGDRegressor
from sklloss.losses import Hinge, Huber, LogLoss, MultinomialLogLoss

RNG = np.random.default_rng(0)
X = RNG.standard_normal((50, 4))
Y2 = (X[:, 0] + 0.5 * RNG.standard_normal(50) > 0).astype(int)
Y3 = np.argmax(X[:, :3] + 0.5 * RNG.standard_normal((50, 3)), axis=1)
YR = X @ np.array([1.0, -2.0, 0.5, 3.0]) + 0.3 * RNG.standard_normal(50)


def _quiet(function, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return function(*args, **kwargs)


def _penalty(coef, alpha, penalty):
    return 0.0 if penalty is None else alpha / 2 * np.sum(coef ** 2)


def _ovr_row_loss(loss):
    def row_loss(coef, intercept, x, y):
        raw = coef @ x + intercept
        targets = [y == 1] if len(raw) == 1 else [y == k for k in range(len(raw))]
        return sum(loss.loss(np.array([float(t)]), raw[k:k + 1])[0]
                   for k, t in enumerate(targets))
    return row_loss


def _softmax_row_loss(coef, intercept, x, y):
    raw = coef @ x + intercept
    if len(raw) == 1:  # a binary model is the pair (-raw / 2, raw / 2)
        raw = np.array([-raw[0] / 2, raw[0] / 2])
    return MultinomialLogLoss().loss(np.array([y]), raw[None, :])[0]


def _softmax_coef(coef):
    """The outputs the softmax model trains: a binary row is the pair (-c/2, c/2)."""
    return np.concatenate([-coef / 2, coef / 2]) if coef.shape[0] == 1 else coef


def _regression_row_loss(loss):
    def row_loss(coef, intercept, x, y):
        return loss.loss(np.array([y]), np.atleast_1d(coef @ x + intercept))[0]
    return row_loss


CASES = {
    "binary log_loss": (SGDClassifier(loss="log_loss"), Y2, _ovr_row_loss(LogLoss()),
                        lambda c: c),
    "one-vs-rest hinge": (SGDClassifier(loss=Hinge(), penalty=None), Y3,
                          _ovr_row_loss(Hinge()), lambda c: c),
    "multinomial": (SGDClassifier(loss="multinomial_log_loss"), Y3, _softmax_row_loss,
                    _softmax_coef),
    "binary multinomial": (SGDClassifier(loss=MultinomialLogLoss(), alpha=0.01), Y2,
                           _softmax_row_loss, _softmax_coef),
    "regression huber": (SGDRegressor(loss=Huber(epsilon=0.5)), YR,
                         _regression_row_loss(Huber(epsilon=0.5)), lambda c: c),
}


@pytest.mark.parametrize("case", CASES)
def test_loss_curve_is_the_objective_replayed_from_the_kernels(case):
    """Each epoch's value is the mean over its rows of loss + penalty, each at the
    weights before that row's step. The replay learns row by row with partial_fit
    (the same steps as fit without shuffling) and evaluates the loss object on the
    model it reads back before each row. (L2 or no penalty: with an L1 part, each
    partial_fit call would restart the truncated gradient's cumulative penalty; the
    L1 term is checked against scikit-learn's printed objective below.)"""
    template, y, row_loss, trained_coef = CASES[case]
    epochs = 3
    model = _quiet(template.set_params(shuffle=False, max_iter=epochs, tol=None).fit, X, y)
    assert len(model.loss_curve_) == model.n_iter_ == epochs

    replay = clone(template).set_params(max_iter=1)
    extra = {"classes": np.unique(y)} if model._is_classifier else {}
    alpha = replay.alpha
    n_outputs = model.coef_.reshape(-1, X.shape[1]).shape[0]
    coef, intercept = np.zeros((n_outputs, X.shape[1])), np.zeros(n_outputs)
    expected = []
    for _ in range(epochs):
        total = 0.0
        for i in range(len(y)):
            total += row_loss(coef, intercept, X[i], y[i])
            total += _penalty(trained_coef(coef), alpha, replay.penalty)
            replay.partial_fit(X[i:i + 1], y[i:i + 1], **extra)
            coef = replay.coef_.reshape(n_outputs, -1)
            intercept = np.atleast_1d(replay.intercept_)
        expected.append(total / len(y))
    np.testing.assert_allclose(model.loss_curve_, expected, rtol=1e-8)
    assert model.best_loss_ == min(model.loss_curve_)


@pytest.mark.parametrize("ours, theirs, y, params", [
    (SGDClassifier, sk.SGDClassifier, Y2, dict(loss="hinge")),
    (SGDClassifier, sk.SGDClassifier, Y2, dict(loss="log_loss", penalty="elasticnet")),
    (SGDRegressor, sk.SGDRegressor, YR, dict(loss="huber", learning_rate="optimal")),
])
def test_loss_curve_is_the_objective_scikit_learn_prints(ours, theirs, y, params, capsys):
    """For the same random_state, binary and regression fits follow scikit-learn's path:
    loss_curve_ is the 'Objective' its verbose output prints per epoch."""
    settings = dict(random_state=0, max_iter=6, tol=None, **params)
    _quiet(theirs(verbose=1, **settings).fit, X, y)
    printed = [float(value) for value in
               re.findall(r"Objective: ([-0-9.e+]+)", capsys.readouterr().out)]
    model = _quiet(ours(**settings).fit, X, y)
    assert len(printed) == len(model.loss_curve_) == 6
    np.testing.assert_allclose(model.loss_curve_, printed, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("model, y", [
    (SGDClassifier(random_state=0), Y2),
    (SGDClassifier(loss="log_loss", random_state=0), Y3),
    (SGDClassifier(loss="multinomial_log_loss", random_state=0), Y3),
    (SGDRegressor(random_state=0), YR),
])
def test_curves_after_fit_stopped_by_tol(model, y):
    model.fit(X, y)
    assert model.n_iter_ < model.max_iter  # stopped by tol
    assert len(model.loss_curve_) == model.n_iter_
    assert all(np.isfinite(model.loss_curve_))
    assert model.best_loss_ == min(model.loss_curve_)
    assert model.validation_scores_ is None and model.best_validation_score_ is None
    # a second fit starts afresh, as MLP's does
    first = list(model.loss_curve_)
    model.fit(X, y)
    assert model.loss_curve_ == first


@pytest.mark.parametrize("model, y", [
    (SGDClassifier(random_state=0), Y2),
    (SGDClassifier(loss="multinomial_log_loss", random_state=0), Y3),
    (SGDRegressor(random_state=0), YR),
])
def test_partial_fit_appends_one_value_per_call(model, y):
    extra = {"classes": np.unique(y)} if model._is_classifier else {}
    model.partial_fit(X, y, **extra)
    assert len(model.loss_curve_) == 1
    model.partial_fit(X[:20], y[:20])
    model.partial_fit(X[20:], y[20:])
    assert len(model.loss_curve_) == 3
    assert model.best_loss_ == min(model.loss_curve_)
    with pytest.raises(ValueError):  # a failed call adds nothing
        model.partial_fit(X[:, :2], y)
    assert len(model.loss_curve_) == 3


@pytest.mark.parametrize("model, y", [
    (SGDClassifier(random_state=0), Y2),
    (SGDClassifier(loss="log_loss", random_state=0), Y3),
    (SGDClassifier(loss="multinomial_log_loss", random_state=0), Y3),
    (SGDRegressor(random_state=0), YR),
])
def test_validation_scores_are_the_models_score_on_the_held_out_rows(model, y):
    """With early stopping: one validation score per epoch, the last of which is the
    fitted model's score (accuracy, or R²) on the rows it held out."""
    model.set_params(early_stopping=True, validation_fraction=0.2, n_iter_no_change=3)
    model.fit(X, y)
    assert len(model.validation_scores_) == len(model.loss_curve_) == model.n_iter_
    assert model.best_validation_score_ == max(model.validation_scores_)
    assert model.best_loss_ is None  # as MLP's, with early stopping
    splitter = StratifiedShuffleSplit if model._is_classifier else ShuffleSplit
    _, held_out = next(splitter(test_size=0.2, random_state=0).split(X, y))
    assert model.validation_scores_[-1] == pytest.approx(
        model.score(X[held_out], y[held_out]), rel=1e-12)
