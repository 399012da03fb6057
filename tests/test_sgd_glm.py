"""SGDRegressor with the GLM and quantile losses, against scikit-learn's exact solvers.

The independent truths: ``PoissonRegressor``, ``GammaRegressor``,
``TweedieRegressor(power)`` (L-BFGS to tol 1e-12) and ``QuantileRegressor`` (HiGHS,
a linear program), fitted to the same data at the same alpha, and scikit-learn's
deviance and pinball metrics.

How alpha maps: SGD with ``penalty='l2'`` minimises
``mean_i(sw_i loss_i) + alpha / 2 ||w||^2`` and the GLMs
``sum_i(sw_i half_deviance_i) / sum_i(sw_i) + alpha / 2 ||w||^2``: the same alpha with
unit weights (or weights of mean 1), ``alpha_sgd = alpha_glm * mean(sw)`` in general;
the half deviance is the loss plus a term in y alone. With ``penalty='l1'`` SGD
minimises ``mean_i(sw_i pinball_i) + alpha ||w||_1``, ``QuantileRegressor``'s objective
at the same alpha.
"""
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn._loss import loss as sk_loss
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import (
    GammaRegressor,
    PoissonRegressor,
    QuantileRegressor,
    TweedieRegressor,
)
from sklearn.metrics import (
    d2_tweedie_score,
    mean_gamma_deviance,
    mean_pinball_loss,
    mean_poisson_deviance,
    mean_tweedie_deviance,
    r2_score,
)
from sklearn.model_selection import GridSearchCV

from sklloss import SGDRegressor
from sklloss.losses import AbsoluteError, Gamma, Poisson, Quantile, Tweedie

ALPHA = 1e-3
# the exact solvers' models, and the settings that take SGD to their optimum: the
# 'adaptive' schedule (eta0 divided by 5 whenever the objective stalls) until its
# objective changes by less than 1e-6
EXACT = dict(alpha=ALPHA, tol=1e-12, max_iter=10000)
TO_OPTIMUM = dict(alpha=ALPHA, learning_rate="adaptive", tol=1e-6, random_state=0)

GLMS = {
    "poisson": (Poisson(), lambda: PoissonRegressor(**EXACT), sk_loss.HalfPoissonLoss(),
                mean_poisson_deviance),
    "gamma": (Gamma(), lambda: GammaRegressor(**EXACT), sk_loss.HalfGammaLoss(),
              mean_gamma_deviance),
    "tweedie": (Tweedie(power=1.5),
                lambda: TweedieRegressor(power=1.5, link="log", **EXACT),
                sk_loss.HalfTweedieLoss(power=1.5),
                lambda y, p, **kw: mean_tweedie_deviance(y, p, power=1.5, **kw)),
}


def glm_data(kind, seed, n=2000, d=8, mean=50.0):
    """Standardised features; counts (Poisson), skewed costs (Gamma) or compound
    Poisson-Gamma totals with exact zeros (Tweedie), of mean about `mean`."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    mu = np.exp(X @ (0.3 * rng.standard_normal(d)) + np.log(mean))
    if kind == "poisson":
        y = rng.poisson(mu).astype(np.float64)
    elif kind == "gamma":
        y = rng.gamma(2.0, mu / 2.0)
    else:
        counts = rng.poisson(mu / 10.0)
        y = np.array([rng.gamma(2.0, 5.0, k).sum() for k in counts])
    return X, y


def quantile_data(seed, n=2000, d=8):
    """Heteroscedastic, heavy-tailed noise: the quantiles differ from the mean model
    by more than a shift."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    noise = (1 + np.abs(X[:, 0])) * rng.standard_t(3, size=n)
    return X, X @ rng.standard_normal(d) + 2 * noise + 10


def glm_objective(half_loss, y, X, coef, intercept, alpha=ALPHA):
    """Mean half deviance (the loss plus its term in y alone) plus the L2 penalty."""
    raw = X @ coef + intercept
    return (np.mean(half_loss.loss(y, raw) + half_loss.constant_to_optimal_zero(y))
            + alpha / 2 * coef @ coef)


def pinball_objective(q, y, X, coef, intercept, alpha=ALPHA):
    return (np.mean(sk_loss.PinballLoss(quantile=q).loss(y, X @ coef + intercept))
            + alpha * np.abs(coef).sum())


def both(X):
    return [X, sp.csr_matrix(X)]


# -- the objective of the exact solvers ---------------------------------------------
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("kind", list(GLMS))
def test_glm_objective_reaches_the_exact_solver(kind, seed, sparse):
    loss, exact, half_loss, _ = GLMS[kind]
    X, y = glm_data(kind, seed)
    reference = exact().fit(X, y)
    best = glm_objective(half_loss, y, X, reference.coef_, reference.intercept_)
    model = SGDRegressor(loss=loss, **TO_OPTIMUM).fit(sp.csr_matrix(X) if sparse else X, y)
    reached = glm_objective(half_loss, y, X, model.coef_, model.intercept_[0])
    assert reached >= best * (1 - 1e-9)  # (the exact solver's is the optimum)
    assert (reached - best) / best < 1e-3


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("q", [0.1, 0.5, 0.9])
def test_quantile_objective_reaches_quantile_regressor(q, seed, sparse):
    X, y = quantile_data(seed)
    reference = QuantileRegressor(quantile=q, alpha=ALPHA, solver="highs").fit(X, y)
    best = pinball_objective(q, y, X, reference.coef_, reference.intercept_)
    model = SGDRegressor(loss=Quantile(quantile=q), penalty="l1", **TO_OPTIMUM)
    model.fit(sp.csr_matrix(X) if sparse else X, y)
    reached = pinball_objective(q, y, X, model.coef_, model.intercept_[0])
    assert reached >= best * (1 - 1e-9)
    assert (reached - best) / best < 1e-2


def test_sample_weight_as_exposure_matches_poisson_regressor():
    """Claim counts over exposures: y = count / exposure, sample_weight = exposure;
    alpha_sgd = alpha_glm * mean(exposure) (here about 2, with a penalty that matters:
    the unmapped alpha is measurably off)."""
    rng = np.random.default_rng(3)
    X = rng.standard_normal((3000, 5))
    exposure = rng.uniform(0.1, 4.0, 3000)
    counts = rng.poisson(exposure * np.exp(X @ [0.6, -0.4, 0.2, 0.0, 0.4] + 0.5))
    y = counts / exposure
    alpha = 0.05
    reference = PoissonRegressor(alpha=alpha, tol=1e-12, max_iter=10000).fit(
        X, y, sample_weight=exposure)

    def objective(coef, intercept):
        half = sk_loss.HalfPoissonLoss()
        raw = X @ coef + intercept
        per_row = half.loss(y, raw) + half.constant_to_optimal_zero(y)
        return np.average(per_row, weights=exposure) + alpha / 2 * coef @ coef

    best = objective(reference.coef_, reference.intercept_)
    gaps = {}
    for name, alpha_sgd in [("mapped", alpha * exposure.mean()), ("unmapped", alpha)]:
        model = SGDRegressor(loss="poisson", **{**TO_OPTIMUM, "alpha": alpha_sgd})
        model.fit(X, y, sample_weight=exposure)
        gaps[name] = (objective(model.coef_, model.intercept_[0]) - best) / best
    assert gaps["mapped"] < 1e-4
    assert gaps["unmapped"] > 10 * gaps["mapped"]


# -- held-out metrics and coverage ----------------------------------------------------
@pytest.mark.parametrize("kind", list(GLMS))
def test_glm_held_out_deviance_within_one_percent(kind):
    loss, exact, _, deviance = GLMS[kind]
    X, y = glm_data(kind, 10, n=6000)
    train, test = slice(0, 4000), slice(4000, None)
    reference = exact().fit(X[train], y[train])
    for X_in in both(X):
        model = SGDRegressor(loss=loss, **TO_OPTIMUM).fit(X_in[train], y[train])
        ours = deviance(y[test], model.predict(X_in[test]))
        theirs = deviance(y[test], reference.predict(X[test]))
        assert abs(ours / theirs - 1) < 0.01


@pytest.mark.parametrize("q", [0.05, 0.5, 0.95])
def test_quantile_held_out_pinball_loss_and_coverage(q):
    X, y = quantile_data(11, n=20000)
    train, test = slice(0, 6000), slice(6000, None)
    reference = QuantileRegressor(quantile=q, alpha=ALPHA, solver="highs").fit(
        X[train], y[train])
    for X_in in both(X):
        model = SGDRegressor(loss=Quantile(quantile=q), penalty="l1", **TO_OPTIMUM)
        model.fit(X_in[train], y[train])
        prediction = model.predict(X_in[test])
        ours = mean_pinball_loss(y[test], prediction, alpha=q)
        theirs = mean_pinball_loss(y[test], reference.predict(X[test]), alpha=q)
        assert abs(ours / theirs - 1) < 0.01
        # the share of held-out targets below the predicted q-quantile
        assert abs(np.mean(y[test] <= prediction) - q) < 0.02


def test_absolute_error_is_the_median_model():
    """absolute_error is twice Quantile(0.5)'s loss: the same optimum, the median."""
    X, y = quantile_data(12)
    reference = QuantileRegressor(quantile=0.5, alpha=0.0, solver="highs").fit(X, y)
    model = SGDRegressor(loss=AbsoluteError(), penalty=None, **TO_OPTIMUM).fit(X, y)
    best = pinball_objective(0.5, y, X, reference.coef_, reference.intercept_, alpha=0)
    reached = pinball_objective(0.5, y, X, model.coef_, model.intercept_[0], alpha=0)
    assert (reached - best) / best < 1e-2


# -- stable at the defaults -------------------------------------------------------------
def test_defaults_converge_on_large_counts_and_wide_costs():
    """Standardised features, counts up to thousands, costs over four orders of
    magnitude: the default fit neither diverges nor runs out of epochs, and its
    held-out deviance is that of the exact solver within 1%."""
    rng = np.random.default_rng(13)
    X = rng.standard_normal((8000, 20))
    log_mean = X @ (0.25 * rng.standard_normal(20)) + np.log(300)
    counts = rng.poisson(np.exp(log_mean)).astype(np.float64)
    costs = rng.gamma(2.0, np.exp(1.5 * (log_mean - np.log(300)) + np.log(1e3)) / 2.0)
    assert counts.max() > 2000 and np.quantile(costs, 0.99) / np.quantile(costs, 0.01) > 1e3
    train, test = slice(0, 6000), slice(6000, None)
    for y, exact, deviance, loss in [(counts, PoissonRegressor, mean_poisson_deviance,
                                      "poisson"),
                                     (costs, GammaRegressor, mean_gamma_deviance, "gamma")]:
        reference = exact(alpha=1e-4, tol=1e-12, max_iter=10000).fit(X[train], y[train])
        with warnings.catch_warnings():
            warnings.simplefilter("error", ConvergenceWarning)
            model = SGDRegressor(loss=loss, random_state=0).fit(X[train], y[train])
        assert model.n_iter_ < model.max_iter
        ours = deviance(y[test], model.predict(X[test]))
        theirs = deviance(y[test], reference.predict(X[test]))
        assert abs(ours / theirs - 1) < 0.01, (loss, ours, theirs)


@pytest.mark.parametrize("loss", ["poisson", "gamma", Tweedie(power=1.2)])
def test_a_fit_does_not_depend_on_the_unit_of_y(loss):
    """Counts per day or per thousand days: the steps are divided by the curvature at
    the best constant, so the same coefficients, and an intercept log(1000) higher.
    (Without a penalty: the loss's scale changes with the unit, alpha's does not, as
    in scikit-learn's GLMs.)"""
    X, y = glm_data("gamma", 14, n=500)
    params = dict(loss=loss, penalty=None, tol=None, max_iter=20, random_state=0)
    small = SGDRegressor(**params).fit(X, y)
    large = SGDRegressor(**params).fit(X, 1000 * y)
    assert_allclose(large.coef_, small.coef_, rtol=1e-9, atol=1e-12)
    assert large.intercept_[0] == pytest.approx(small.intercept_[0] + np.log(1000), rel=1e-9)


def test_an_outlying_row_cannot_blow_up_the_model():
    """One step changes its row's log-mean by at most 1: a row predicted 10^5 times too
    low moves its prediction by a factor e (the bound binds exactly), not exp(10^5)."""
    X, y = glm_data("poisson", 15, n=200, mean=1.0)
    model = SGDRegressor(loss="poisson", learning_rate="constant", eta0=1.0,
                         penalty=None, shuffle=False, random_state=0)
    model.partial_fit(X[1:], y[1:])
    before = model.intercept_[0] + X[0] @ model.coef_
    outlier = np.exp(before) * 1e5
    model.partial_fit(X[:1], [outlier])
    after = model.intercept_[0] + X[0] @ model.coef_
    assert after - before == pytest.approx(1.0, rel=1e-9)
    # a row the model already predicts well is stepped as usual (the bound is idle)
    small = SGDRegressor(loss="poisson", learning_rate="constant", eta0=1e-3,
                         penalty=None, shuffle=False).partial_fit(X[1:], y[1:])
    coef, intercept = small.coef_.copy(), small.intercept_[0]
    raw = intercept + X[0] @ coef
    small.partial_fit(X[:1], [np.exp(raw) * 1.5])
    scale = small._step_scale
    step = -1e-3 * scale * (np.exp(raw) - np.exp(raw) * 1.5)
    assert_allclose(small.coef_, coef + step * X[0], rtol=1e-12, atol=1e-15)
    assert small.intercept_[0] == pytest.approx(intercept + step, rel=1e-12)


# -- the estimator: predict, score, domain -------------------------------------------
@pytest.mark.parametrize("kind", list(GLMS))
def test_predict_is_the_mean_and_score_is_the_glms_d2(kind):
    loss, exact, _, _ = GLMS[kind]
    X, y = glm_data(kind, 16, n=600)
    model = SGDRegressor(loss=loss, random_state=0).fit(X, y)
    assert_allclose(model.predict(X), np.exp(X @ model.coef_ + model.intercept_),
                    rtol=1e-12)
    # scikit-learn's GLM with our coefficients scores them as ours does
    glm = exact().fit(X, y)
    glm.coef_, glm.intercept_ = model.coef_, model.intercept_[0]
    assert model.score(X, y) == pytest.approx(glm.score(X, y), rel=1e-10)
    assert model.score(X, y) == pytest.approx(
        d2_tweedie_score(y, model.predict(X), power=loss._power), rel=1e-12)


def test_quantile_score_is_r2():
    X, y = quantile_data(17, n=400)
    model = SGDRegressor(loss=Quantile(0.7), random_state=0).fit(X, y)
    assert model.score(X, y) == pytest.approx(r2_score(y, model.predict(X)), rel=1e-12)


@pytest.mark.parametrize("loss, bad", [("poisson", -1.0), ("gamma", 0.0), ("gamma", -2.0),
                                       (Tweedie(power=1.5), -0.5),
                                       (Tweedie(power=3), 0.0)])
def test_targets_outside_the_domain_are_refused_and_leave_the_model(loss, bad):
    X, y = glm_data("gamma", 18, n=50)
    model = SGDRegressor(loss=loss, max_iter=5, tol=None, random_state=0).fit(X, y)
    before = {key: np.copy(value) if isinstance(value, np.ndarray) else value
              for key, value in vars(model).items()}
    y_bad = y.copy()
    y_bad[7] = bad
    name = loss if isinstance(loss, str) else loss.name
    for call in (model.fit, model.partial_fit):
        with pytest.raises(ValueError, match=rf"loss='{name}' takes targets y in .*got "
                                             rf"\[{bad}\]"):
            call(X, y_bad)
        assert_array_equal(model.coef_, before["coef_"])
        assert model.t_ == before["t_"]
    # Tweedie power 0 takes any real target, as scikit-learn's
    SGDRegressor(loss=Tweedie(power=0), max_iter=3, tol=None).fit(X, y - y.mean())


def test_positive_targets_tag():
    assert SGDRegressor(loss="poisson").__sklearn_tags__().target_tags.positive_only
    assert SGDRegressor(loss="gamma").__sklearn_tags__().target_tags.positive_only
    assert not SGDRegressor(loss=Tweedie(power=0)).__sklearn_tags__().target_tags.positive_only
    assert not SGDRegressor(loss="quantile").__sklearn_tags__().target_tags.positive_only


# -- partial_fit, out of core -------------------------------------------------------------
@pytest.mark.parametrize("loss", [Poisson(), Gamma(), Tweedie(power=1.7), Quantile(0.8),
                                  AbsoluteError()])
@pytest.mark.parametrize("sparse", [False, True])
def test_one_partial_fit_is_one_epoch_of_fit(loss, sparse):
    kind = "poisson" if loss.name in ("quantile", "absolute_error") else (
        "gamma" if loss.name == "gamma" else "poisson")
    X, y = glm_data(kind, 19, n=300)
    X = sp.csr_matrix(X) if sparse else X
    for shuffle in (False, True):  # (shuffled: the same row order from random_state)
        params = dict(loss=loss, random_state=0, average=5, shuffle=shuffle)
        one = SGDRegressor(**params).partial_fit(X, y)
        fit = SGDRegressor(**params, max_iter=1, tol=None)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            fit.fit(X, y)
        assert_array_equal(one.coef_, fit.coef_)
        assert_array_equal(one.intercept_, fit.intercept_)
        assert one.t_ == fit.t_


@pytest.mark.parametrize("kind", ["poisson", "quantile"])
def test_chunked_passes_reach_the_in_memory_fit(kind):
    """Passes of partial_fit over chunks, each chunk's rows shuffled as a stream
    would be: the held-out loss of the in-memory fit within 1%."""
    if kind == "poisson":
        X, y = glm_data("poisson", 20, n=8000)
        loss, metric = Poisson(), mean_poisson_deviance
    else:
        X, y = quantile_data(20, n=8000)
        loss = Quantile(0.9)
        metric = lambda y_true, y_pred: mean_pinball_loss(y_true, y_pred, alpha=0.9)  # noqa: E731
    train, test = slice(0, 6000), slice(6000, None)
    in_memory = SGDRegressor(loss=loss, **TO_OPTIMUM).fit(X[train], y[train])
    streamed = SGDRegressor(loss=loss, alpha=ALPHA, random_state=0)  # (default steps)
    rng = np.random.default_rng(0)
    for _ in range(30):
        for chunk in np.array_split(rng.permutation(6000), 6):
            streamed.partial_fit(X[chunk], y[chunk])
    ours = metric(y[test], streamed.predict(X[test]))
    theirs = metric(y[test], in_memory.predict(X[test]))
    assert abs(ours / theirs - 1) < 0.01, (ours, theirs)


def test_a_first_chunk_of_zero_counts_does_not_fix_the_step_scale():
    """Zero counts have no curvature to scale the steps by: the scale is measured on
    the next chunk, and the stream learns the model (within 1% of the held-out
    deviance of a stream without the zero chunk)."""
    X, y = glm_data("poisson", 25, n=6000, mean=0.5)
    train, test = slice(0, 4000), slice(4000, None)

    def stream(first_zero_chunk):
        model = SGDRegressor(loss="poisson", random_state=0)
        if first_zero_chunk:
            model.partial_fit(X[:50], np.zeros(50))
            assert model._step_scale is None
        for _ in range(5):
            for start in range(0, 4000, 500):
                model.partial_fit(X[start:start + 500], y[start:start + 500])
        return model

    with_zeros, without = stream(True), stream(False)
    assert with_zeros._step_scale == pytest.approx(1 / y[:500].mean(), rel=1e-12)
    ours = mean_poisson_deviance(y[test], with_zeros.predict(X[test]))
    reference = mean_poisson_deviance(y[test], without.predict(X[test]))
    assert abs(ours / reference - 1) < 0.01, (ours, reference)
    # fit on all-zero targets: no scale either; it starts at half an event over the 50
    # rows, a rate of 0.01, and only comes down from there
    zero = SGDRegressor(loss="poisson", max_iter=5, tol=None).fit(X[:50], np.zeros(50))
    assert zero._step_scale is None
    assert np.all(zero.predict(X[:50]) <= 0.01 * (1 + 1e-9))


def test_partial_fit_keeps_the_first_calls_step_scale():
    X, y = glm_data("poisson", 21, n=400)
    model = SGDRegressor(loss="poisson", random_state=0).partial_fit(X[:200], y[:200])
    scale = model._step_scale
    assert scale == pytest.approx(1 / y[:200].mean(), rel=1e-12)
    model.partial_fit(X[200:], 10 * y[200:])
    assert model._step_scale == scale


# -- every option -------------------------------------------------------------------------
@pytest.mark.parametrize("learning_rate", ["constant", "optimal", "invscaling", "adaptive",
                                           "adagrad", "normalized_adagrad"])
@pytest.mark.parametrize("penalty", ["l2", "l1", "elasticnet", None])
@pytest.mark.parametrize("loss", [Poisson(), Gamma(), Tweedie(power=1.5), Quantile(0.3),
                                  AbsoluteError()])
def test_every_schedule_and_penalty_learns(loss, penalty, learning_rate):
    """No divergence, and most of what the exact model explains, with averaging and
    float32 too."""
    if loss.name in ("quantile", "absolute_error"):
        X, y = quantile_data(22, n=1500)
        q = getattr(loss, "quantile", 0.5)
        exact = QuantileRegressor(quantile=q, alpha=0.0, solver="highs").fit(X, y)

        def metric(model, X_):
            return mean_pinball_loss(y, model.predict(X_), alpha=q)
    else:
        kind = {"poisson": "poisson", "gamma": "gamma"}.get(loss.name, "tweedie")
        X, y = glm_data(kind, 22, n=1500)
        exact = GLMS[kind][1]().fit(X, y)

        def metric(model, X_):
            return GLMS[kind][3](y, model.predict(X_))
    baseline = metric(exact, X)
    constant = SGDRegressor(loss=loss, max_iter=1, eta0=1e-12, learning_rate="constant",
                            tol=None).fit(X, y)  # (starts at, and stays at, the best constant)
    assert np.all(np.abs(constant.coef_) < 1e-9)
    for options, X_in in [({}, X), (dict(average=True), sp.csr_matrix(X)),
                          ({}, X.astype(np.float32))]:
        model = SGDRegressor(loss=loss, penalty=penalty, learning_rate=learning_rate,
                             alpha=1e-4, random_state=0, **options)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X_in, y)
        assert model.coef_.dtype == X_in.dtype
        assert np.all(np.isfinite(model.coef_)) and np.isfinite(model.intercept_[0])
        if learning_rate == "optimal":
            continue  # (1 / (alpha t) at alpha = 1e-4: far from converged; see the Notes)
        # at least half of what the exact model gains over the best constant
        ours, best, start = metric(model, X_in), baseline, metric(constant, X)
        assert ours - best < 0.5 * (start - best), (options, ours, best, start)


def test_early_stopping_scores_d2_and_warm_start_continues():
    X, y = glm_data("poisson", 23, n=2000)
    model = SGDRegressor(loss="poisson", early_stopping=True, random_state=0).fit(X, y)
    assert len(model.validation_scores_) == model.n_iter_
    assert 0 < model.best_validation_score_ <= 1  # D² on the held-out rows
    # a warm start continues from the fitted model, not from the best constant
    params = dict(loss="poisson", max_iter=3, tol=None, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warm = SGDRegressor(warm_start=True, **params).fit(X, y)
        coef, intercept = warm.coef_.copy(), warm.intercept_.copy()
        warm.fit(X, y)
        given = SGDRegressor(**params).fit(X, y, coef_init=coef, intercept_init=intercept)
    assert_array_equal(warm.coef_, given.coef_)
    assert_array_equal(warm.intercept_, given.intercept_)


def test_grid_search_over_tweedie_power():
    X, y = glm_data("tweedie", 24, n=1500)
    search = GridSearchCV(SGDRegressor(random_state=0),
                          {"loss": [Tweedie(power=p) for p in (1.1, 1.5, 1.9)]}, cv=3)
    search.fit(X, y)
    assert isinstance(search.best_params_["loss"], Tweedie)
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
