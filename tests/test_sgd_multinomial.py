"""SGDClassifier(loss="multinomial_log_loss"): one softmax model trained jointly.

Independent truths: a NumPy replay of per-row softmax SGD whose gradients come from
the MultinomialLogLoss object, scikit-learn's LogisticRegression (lbfgs) at the same
objective, the softmax, and equivalences (class weights = sample weights, partial_fit
chunks = fit, threads, dtypes).
"""
import re
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.special import expit, softmax
from sklearn.datasets import load_iris, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.preprocessing import StandardScaler

from sklloss import SGDClassifier
from sklloss.losses import MultinomialLogLoss

X_WINE, Y_WINE = load_wine(return_X_y=True)
X_WINE = StandardScaler().fit_transform(X_WINE)


def _quiet_fit(model, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(*args, **kwargs)


def _replay(X, codes, K, eta, alpha, sample_weight, class_weight, intercept_decay,
            epochs):
    """Per-row SGD on mean softmax cross-entropy + alpha/2 ||W||^2, in NumPy, rows in
    order, constant step: W <- (1 - eta alpha) W - eta s g x^T, b <- b - eta s g d,
    with g the MultinomialLogLoss gradient, s the row's weight, d the intercept decay."""
    loss = MultinomialLogLoss()
    W = np.zeros((K, X.shape[1]))
    b = np.zeros(K)
    for _ in range(epochs):
        for i in range(X.shape[0]):
            x = X[i].toarray().ravel() if sp.issparse(X) else X[i]
            g = loss.gradient(codes[i:i + 1], (W @ x + b)[None, :])[0]
            step = eta * sample_weight[i] * class_weight[codes[i]]
            W = (1 - eta * alpha) * W - step * np.outer(g, x)
            b = b - step * g * intercept_decay
    return W, b


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("n_classes", [3, 2])
def test_one_softmax_model_equals_a_numpy_replay_of_per_row_sgd(sparse, n_classes):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 5))
    y = rng.integers(0, n_classes, 60)
    sample_weight = rng.uniform(0.5, 2.0, 60)
    class_weight = {c: 1.0 + c for c in range(n_classes)}
    X_fit = sp.csr_matrix(X) if sparse else X
    eta, alpha, epochs = 0.05, 0.01, 3
    model = _quiet_fit(SGDClassifier(
        loss="multinomial_log_loss", learning_rate="constant", eta0=eta, alpha=alpha,
        shuffle=False, max_iter=epochs, tol=None, class_weight=class_weight),
        X_fit, y, sample_weight=sample_weight)
    W, b = _replay(X_fit, y, n_classes, eta, alpha, sample_weight,
                   [class_weight[c] for c in range(n_classes)],
                   0.01 if sparse else 1.0, epochs)
    if n_classes == 2:  # stored as scikit-learn stores a binary model: one row
        W, b = W[1:] - W[:1], b[1:] - b[:1]
    np.testing.assert_allclose(model.coef_, W, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(model.intercept_, b, rtol=1e-10, atol=1e-12)
    assert model.coef_.shape == (1 if n_classes == 2 else n_classes, 5)
    assert model.n_iter_ == epochs and model.t_ == epochs * 60 + 1


@pytest.mark.parametrize("load", [load_iris, load_wine])
def test_converges_to_the_objective_minimum_of_multinomial_logistic_regression(load):
    X, y = load(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    alpha = 0.01
    # mean loss + alpha/2 ||W||^2 is LogisticRegression's objective with C = 1/(n alpha)
    reference = LogisticRegression(C=1 / (len(y) * alpha), tol=1e-12,
                                   max_iter=10_000).fit(X, y)

    def objective(coef, intercept):
        return MultinomialLogLoss()(y, X @ coef.T + intercept) + alpha / 2 * np.sum(coef ** 2)

    model = _quiet_fit(SGDClassifier(loss="multinomial_log_loss", alpha=alpha,
                                     max_iter=300, tol=None, random_state=0), X, y)
    best = objective(reference.coef_, reference.intercept_)
    assert best <= objective(model.coef_, model.intercept_) < best * (1 + 1e-3)
    np.testing.assert_allclose(model.predict_proba(X), reference.predict_proba(X),
                               atol=0.02)
    # one-vs-rest at the same settings fits another model: its probabilities are further
    ovr = _quiet_fit(SGDClassifier(loss="log_loss", alpha=alpha, max_iter=300, tol=None,
                                   random_state=0), X, y)
    gap = np.abs(model.predict_proba(X) - reference.predict_proba(X)).max()
    assert np.abs(ovr.predict_proba(X) - reference.predict_proba(X)).max() > 2 * gap


def test_predict_proba_is_the_softmax_of_the_decision_function():
    model = SGDClassifier(loss="multinomial_log_loss", random_state=0).fit(X_WINE, Y_WINE)
    decision = model.decision_function(X_WINE)
    probabilities = model.predict_proba(X_WINE)
    np.testing.assert_allclose(probabilities, softmax(decision, axis=1), rtol=1e-12)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(model.predict_log_proba(X_WINE), np.log(probabilities),
                               rtol=1e-12, atol=1e-12)
    # far from the data a probability underflows to 0; its log stays finite (log-softmax)
    far = model.predict_log_proba(1e4 * X_WINE[:5])
    assert np.all(np.isfinite(far)) and np.any(far < -800)
    np.testing.assert_allclose(far, (lambda d: d - d.max(axis=1, keepdims=True))(
        model.decision_function(1e4 * X_WINE[:5])), rtol=1e-12)
    np.testing.assert_array_equal(model.predict(X_WINE),
                                  model.classes_[np.argmax(probabilities, axis=1)])
    # the model's own training loss, from the kernels, is what predict_proba implies
    assert np.isclose(log_loss(Y_WINE, probabilities),
                      MultinomialLogLoss()(Y_WINE, decision), rtol=1e-10)


def test_binary_model_is_one_row_and_its_probabilities_the_sigmoid():
    y = (Y_WINE == 1).astype(int)
    model = SGDClassifier(loss=MultinomialLogLoss(), random_state=0).fit(X_WINE, y)
    decision = model.decision_function(X_WINE)
    assert model.coef_.shape == (1, X_WINE.shape[1]) and decision.shape == (len(y),)
    probabilities = model.predict_proba(X_WINE)
    np.testing.assert_allclose(probabilities[:, 1], expit(decision), rtol=1e-12)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0)
    assert model.score(X_WINE, y) > 0.9


def test_class_weight_equals_the_same_sample_weights():
    class_weight = {0: 0.5, 1: 2.0, 2: 1.5}
    settings = dict(loss="multinomial_log_loss", random_state=0, max_iter=5, tol=None)
    by_class = _quiet_fit(SGDClassifier(class_weight=class_weight, **settings),
                          X_WINE, Y_WINE)
    by_sample = _quiet_fit(SGDClassifier(**settings), X_WINE, Y_WINE,
                           sample_weight=[class_weight[c] for c in Y_WINE])
    np.testing.assert_allclose(by_class.coef_, by_sample.coef_, rtol=1e-12)
    np.testing.assert_allclose(by_class.intercept_, by_sample.intercept_, rtol=1e-12)


@pytest.mark.parametrize("options", [
    dict(penalty="l2"), dict(penalty=None), dict(learning_rate="constant", eta0=0.01),
    dict(learning_rate="invscaling", eta0=0.1), dict(learning_rate="adaptive", eta0=0.1),
    dict(average=True), dict(average=50),
])
def test_partial_fit_over_chunks_equals_fit(options):
    """L2 or no penalty, every schedule, averaging: partial_fit on 4 chunks for 3
    passes is fit(max_iter=3) without shuffling, and both learn. (Not with an L1 part:
    as in scikit-learn, each call starts the truncated gradient's cumulative penalty
    afresh.)"""
    settings = dict(loss="multinomial_log_loss", shuffle=False, random_state=0, **options)
    fitted = _quiet_fit(SGDClassifier(max_iter=3, tol=None, **settings), X_WINE, Y_WINE)
    streamed = SGDClassifier(**settings)
    for _ in range(3):
        for chunk in np.array_split(np.arange(len(Y_WINE)), 4):
            streamed.partial_fit(X_WINE[chunk], Y_WINE[chunk], classes=[0, 1, 2])
    np.testing.assert_allclose(streamed.coef_, fitted.coef_, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(streamed.intercept_, fitted.intercept_, rtol=1e-9,
                               atol=1e-12)
    assert streamed.t_ == fitted.t_
    assert fitted.score(X_WINE, Y_WINE) > 0.8


@pytest.mark.parametrize("penalty", ["l1", "elasticnet"])
def test_l1_penalties_give_sparse_softmax_models(penalty):
    weak, strong = (_quiet_fit(SGDClassifier(loss="multinomial_log_loss", penalty=penalty,
                                             alpha=alpha, random_state=0), X_WINE, Y_WINE)
                    for alpha in (1e-4, 3e-2))
    assert np.mean(strong.coef_ == 0) > 2 * np.mean(weak.coef_ == 0)
    assert strong.score(X_WINE, Y_WINE) > 0.9 and weak.score(X_WINE, Y_WINE) > 0.9
    streamed = SGDClassifier(loss="multinomial_log_loss", penalty=penalty, alpha=3e-2,
                             random_state=0)
    for _ in range(5):
        streamed.partial_fit(X_WINE, Y_WINE, classes=[0, 1, 2])
    assert np.mean(streamed.coef_ == 0) > 2 * np.mean(weak.coef_ == 0)
    assert streamed.score(X_WINE, Y_WINE) > 0.9


def test_early_stopping_stops_on_the_validation_accuracy_of_the_softmax_model():
    model = SGDClassifier(loss="multinomial_log_loss", early_stopping=True,
                          n_iter_no_change=3, random_state=0).fit(X_WINE, Y_WINE)
    assert model.n_iter_ < model.max_iter
    scores = model.validation_scores_
    assert len(scores) == model.n_iter_
    # stopped after n_iter_no_change epochs without improving on the best by tol
    assert max(scores[-3:]) < max(scores[:-3]) + model.tol


def test_float32_and_threads():
    # (a well-conditioned regime: with 'optimal''s large first steps, float32 rounding
    # is amplified into different paths, as in one-vs-rest)
    settings = dict(loss="multinomial_log_loss", random_state=0, max_iter=5, tol=None,
                    alpha=0.01, learning_rate="constant", eta0=0.01)
    model64 = _quiet_fit(SGDClassifier(**settings), X_WINE, Y_WINE)
    model32 = _quiet_fit(SGDClassifier(**settings), X_WINE.astype(np.float32), Y_WINE)
    assert model32.coef_.dtype == np.float32
    assert model32.predict_proba(X_WINE.astype(np.float32)).dtype == np.float32
    np.testing.assert_allclose(model32.coef_, model64.coef_, rtol=1e-4, atol=1e-5)
    threaded = _quiet_fit(SGDClassifier(n_jobs=2, **settings), X_WINE, Y_WINE)
    np.testing.assert_array_equal(threaded.coef_, model64.coef_)


def test_warm_start_and_coef_init_continue_the_model():
    settings = dict(loss="multinomial_log_loss", random_state=0, max_iter=4, tol=None,
                    learning_rate="constant", eta0=0.01, shuffle=False)
    first = _quiet_fit(SGDClassifier(**settings), X_WINE, Y_WINE)
    again = _quiet_fit(SGDClassifier(**settings), X_WINE, Y_WINE,
                       coef_init=first.coef_, intercept_init=first.intercept_)
    eight = _quiet_fit(SGDClassifier(**{**settings, "max_iter": 8}), X_WINE, Y_WINE)
    # constant step, no shuffling: 4 + 4 epochs from the same start are 8 epochs
    np.testing.assert_allclose(again.coef_, eight.coef_, rtol=1e-9)
    y = (Y_WINE == 2).astype(int)
    binary = _quiet_fit(SGDClassifier(**settings), X_WINE, y)
    again = _quiet_fit(SGDClassifier(**settings), X_WINE, y, coef_init=binary.coef_,
                       intercept_init=binary.intercept_)
    eight = _quiet_fit(SGDClassifier(**{**settings, "max_iter": 8}), X_WINE, y)
    np.testing.assert_allclose(again.coef_, eight.coef_, rtol=1e-9)


def test_pa_schedules_are_refused_with_the_multinomial_loss():
    with pytest.raises(ValueError, match="Learning rate 'pa1' only works with loss 'hinge'"):
        SGDClassifier(loss="multinomial_log_loss", learning_rate="pa1").fit(X_WINE, Y_WINE)


def test_verbose_prints_one_line_per_epoch_for_the_whole_model(capsys):
    model = _quiet_fit(SGDClassifier(loss="multinomial_log_loss", verbose=1, max_iter=4,
                                     tol=None, random_state=0), X_WINE, Y_WINE)
    out = capsys.readouterr().out
    assert out.count("-- Epoch") == 4
    lines = [line for line in out.splitlines() if line.startswith("Norm:")]
    assert len(lines) == 4
    norm, objective = (float(v) for v in re.search(
        r"Norm: ([0-9.]+), .*Objective: ([0-9.]+)", lines[-1]).groups())
    assert norm == pytest.approx(np.linalg.norm(model.coef_), abs=0.01)
    assert objective == pytest.approx(model.loss_curve_[-1], abs=1e-6)
