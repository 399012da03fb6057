"""sklloss.losses against independent truths.

The reference formulas below are written from the conventions in DESIGN.md
(scikit-learn's SGD), in plain numpy/scipy, independently of the kernels. Where
scikit-learn has the same loss, it is a second reference.
"""
import re
import tracemalloc

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.special import expit, logsumexp, softmax

from sklloss import losses
from sklloss.losses import (
    LOSSES,
    AbsoluteError,
    EpsilonInsensitive,
    Gamma,
    LogLink,
    Poisson,
    Quantile,
    Tweedie,
    Hinge,
    Huber,
    LogLoss,
    MultinomialLogLoss,
    SquaredEpsilonInsensitive,
    SquaredError,
    get_loss,
)

from loss_lists import BINARY, EPSILON_LOSSES, MULTICLASS, REGRESSION

ELEMENTWISE = list(REGRESSION + BINARY)
# the losses' parameters: not the defaults, to catch an ignored parameter
EPSILON = 0.7
POWER = 1.3
QUANTILE = 0.3
PARAMETERS = {"epsilon": EPSILON, "power": POWER, "quantile": QUANTILE}
LOG_LINK = [name for name in ELEMENTWISE if isinstance(LOSSES[name].link, LogLink)]

RTOL = {np.float64: 1e-10, np.float32: 2e-5}


def make_loss(name):
    takes = LOSSES[name]._parameter_names
    return get_loss(name, **{key: PARAMETERS[key] for key in takes})


# -- independent reference formulas -------------------------------------------------
def ref_loss(name, y, p, eps=EPSILON):
    y = np.asarray(y, dtype=np.float64)
    p = np.asarray(p, dtype=np.float64)
    if name == "squared_error":
        return 0.5 * (y - p) ** 2
    if name == "huber":
        r = np.abs(y - p)
        return np.where(r <= eps, 0.5 * r**2, eps * r - 0.5 * eps**2)
    if name == "epsilon_insensitive":
        return np.maximum(0.0, np.abs(y - p) - eps)
    if name == "squared_epsilon_insensitive":
        return np.maximum(0.0, np.abs(y - p) - eps) ** 2
    if name in ("poisson", "gamma", "tweedie"):  # half the unit deviance, less a term in y
        rho = {"poisson": 1.0, "gamma": 2.0}.get(name, POWER)
        with np.errstate(over="ignore"):
            return (np.exp((2 - rho) * p) / (2 - rho)
                    - y * np.exp((1 - rho) * p) / (1 - rho)) if rho not in (1, 2) else (
                np.exp(p) - y * p if rho == 1 else p + y * np.exp(-p))
    if name == "quantile":
        return np.where(y >= p, QUANTILE * (y - p), (1 - QUANTILE) * (p - y))
    if name == "absolute_error":
        return np.abs(y - p)
    s = np.where(y > 0, 1.0, -1.0)
    z = s * p
    if name == "log_loss":
        return np.logaddexp(0.0, -z)
    if name == "hinge":
        return np.maximum(0.0, 1.0 - z)
    if name == "perceptron":
        return np.maximum(0.0, -z)
    if name == "squared_hinge":
        return np.maximum(0.0, 1.0 - z) ** 2
    if name == "modified_huber":
        return np.where(z >= -1.0, np.maximum(0.0, 1.0 - z) ** 2, -4.0 * z)
    raise AssertionError(name)


def ref_grad(name, y, p, eps=EPSILON):
    y = np.asarray(y, dtype=np.float64)
    p = np.asarray(p, dtype=np.float64)
    if name == "squared_error":
        return p - y
    if name == "huber":
        return np.clip(p - y, -eps, eps)
    if name == "epsilon_insensitive":
        return np.where(y - p > eps, -1.0, np.where(p - y > eps, 1.0, 0.0))
    if name == "squared_epsilon_insensitive":
        r = y - p
        return np.where(r > eps, -2.0 * (r - eps), np.where(r < -eps, -2.0 * (r + eps), 0.0))
    if name in ("poisson", "gamma", "tweedie"):
        rho = {"poisson": 1.0, "gamma": 2.0}.get(name, POWER)
        with np.errstate(over="ignore"):
            return np.exp((2 - rho) * p) - y * np.exp((1 - rho) * p)
    if name == "quantile":
        return np.where(y >= p, -QUANTILE, 1 - QUANTILE)
    if name == "absolute_error":
        return np.where(p > y, 1.0, -1.0)
    s = np.where(y > 0, 1.0, -1.0)
    z = s * p
    if name == "log_loss":
        return -s * expit(-z)
    if name == "hinge":
        return np.where(z <= 1.0, -s, 0.0)
    if name == "perceptron":
        return np.where(z <= 0.0, -s, 0.0)
    if name == "squared_hinge":
        return np.where(z < 1.0, -2.0 * s * (1.0 - z), 0.0)
    if name == "modified_huber":
        return np.where(z >= 1.0, 0.0, np.where(z >= -1.0, -2.0 * s * (1.0 - z), -4.0 * s))
    raise AssertionError(name)


def sample(name, n, dtype, rng, scale=3.0):
    """Raw predictions and targets in the loss's domain (counts with zeros where it
    takes y >= 0, positive amounts where y > 0)."""
    raw = (scale * rng.standard_normal(n)).astype(dtype)
    domain = make_loss(name).interval_y_true
    if name in BINARY:
        y = rng.choice([-1.0, 1.0], n).astype(dtype)
    elif domain.low == 0 and domain.low_inclusive:
        y = rng.poisson(np.exp(raw / 2)).astype(dtype)
    elif domain.low == 0:
        y = rng.gamma(2.0, np.exp(raw / 2)).astype(dtype)
    else:
        y = (scale * rng.standard_normal(n)).astype(dtype)
    return y, raw


def loss_and_data(name, n, rng, n_classes=3):
    """(loss object, y, raw) for any loss, the multinomial one included."""
    if name == "multinomial_log_loss":
        return (MultinomialLogLoss(), rng.integers(0, n_classes, n),
                rng.standard_normal((n, n_classes)))
    y, raw = sample(name, n, np.float64, rng)
    return make_loss(name), y, raw


# -- values and derivatives against the closed forms --------------------------------
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", ELEMENTWISE)
def test_values_and_gradients_match_closed_forms(name, dtype):
    rng = np.random.default_rng(0)
    y, raw = sample(name, 5000, dtype, rng)
    loss = make_loss(name)
    # The reference sees the same (rounded) inputs; in float32, epsilon is rounded too.
    eps = float(np.asarray(EPSILON, dtype=dtype))
    expected_loss = ref_loss(name, y, raw, eps)
    expected_grad = ref_grad(name, y, raw, eps)
    scale = 1e-6 if dtype == np.float32 else 0.0  # absolute slack for values near 0
    values = loss.loss(y, raw)
    grads = loss.gradient(y, raw)
    assert values.dtype == dtype and grads.dtype == dtype
    assert_allclose(values, expected_loss, rtol=RTOL[dtype], atol=scale)
    assert_allclose(grads, expected_grad, rtol=RTOL[dtype], atol=scale)
    both_loss, both_grad = loss.loss_gradient(y, raw)
    assert_allclose(both_loss, expected_loss, rtol=RTOL[dtype], atol=scale)
    assert_allclose(both_grad, expected_grad, rtol=RTOL[dtype], atol=scale)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n_classes", [2, 3, 10])
def test_multinomial_matches_closed_form(n_classes, dtype):
    rng = np.random.default_rng(1)
    raw = (3 * rng.standard_normal((2000, n_classes))).astype(dtype)
    y = rng.integers(0, n_classes, 2000)
    loss = MultinomialLogLoss()
    raw64 = raw.astype(np.float64)
    rows = np.arange(len(y))
    # -log softmax_y = log(sum_k exp(raw_k - raw_y)) = log1p(sum_{k != y} ...): exact
    # to rounding even when the loss is tiny (logsumexp(raw) - raw_y is not).
    shifted = np.exp(raw64 - raw64[rows, y][:, None])
    shifted[rows, y] = 0
    expected_loss = np.log1p(shifted.sum(axis=1))
    assert_allclose(expected_loss, logsumexp(raw64, axis=1) - raw64[rows, y], atol=1e-12)
    expected_grad = softmax(raw64, axis=1)
    # softmax_y - 1 = -sum_{k != y} softmax_k: exact even when softmax_y is close to 1
    expected_grad[rows, y] = 0
    expected_grad[rows, y] = -expected_grad.sum(axis=1)
    values, grads = loss.loss_gradient(y, raw)
    assert values.dtype == dtype and grads.dtype == dtype and grads.shape == raw.shape
    atol = 1e-6 if dtype == np.float32 else 0.0
    assert_allclose(values, expected_loss, rtol=RTOL[dtype], atol=atol)
    assert_allclose(grads, expected_grad, rtol=RTOL[dtype], atol=atol)
    assert_allclose(loss.loss(y, raw), values, rtol=RTOL[dtype], atol=atol)
    assert_allclose(loss.gradient(y, raw), grads, rtol=RTOL[dtype], atol=atol)


@pytest.mark.parametrize(
    "name, y, raw, expected_grad",
    [
        ("hinge", 1.0, 1.0, -1.0),  # scikit-learn's subgradient at z == 1
        ("hinge", -1.0, -1.0, 1.0),
        ("perceptron", 1.0, 0.0, -1.0),  # and at z == 0
        ("modified_huber", 1.0, 1.0, 0.0),
        ("modified_huber", 1.0, -1.0, -4.0),
        ("squared_hinge", 1.0, 1.0, 0.0),
        ("epsilon_insensitive", 0.0, EPSILON, 0.0),
        ("epsilon_insensitive", 0.0, -EPSILON, 0.0),
        ("huber", 0.0, EPSILON, EPSILON),
        ("quantile", 1.0, 1.0, -QUANTILE),  # PinballLoss's at y == p
        ("absolute_error", 1.0, 1.0, -1.0),  # AbsoluteError's at y == p
    ],
)
def test_derivative_at_kinks_follows_scikit_learn(name, y, raw, expected_grad):
    assert make_loss(name).gradient([y], [raw])[0] == expected_grad


# -- derivatives against finite differences -----------------------------------------
KINKS = {
    "huber": [EPSILON, -EPSILON],  # in r = y - p
    "epsilon_insensitive": [EPSILON, -EPSILON],
    "squared_epsilon_insensitive": [EPSILON, -EPSILON],
    "hinge": [1.0],  # in z = y p
    "perceptron": [0.0],
    "squared_hinge": [1.0],
    "modified_huber": [1.0, -1.0],
    "quantile": [0.0],  # in r = y - p
    "absolute_error": [0.0],
}


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_gradient_matches_central_finite_difference(name):
    rng = np.random.default_rng(2)
    y, raw = sample(name, 4000, np.float64, rng)
    # Keep only points at least 1e-3 away from a kink.
    where = (y - raw) if name in REGRESSION else y * raw
    away = np.ones_like(raw, dtype=bool)
    for kink in KINKS.get(name, []):
        away &= np.abs(where - kink) > 1e-3
    y, raw = y[away], raw[away]
    loss = make_loss(name)
    h = 1e-6
    numeric = (loss.loss(y, raw + h) - loss.loss(y, raw - h)) / (2 * h)
    assert_allclose(loss.gradient(y, raw), numeric, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("dtype, raw, y", [
    (np.float64, [0.0, -40.0], 0),
    (np.float64, [5.0, -30.0, -31.0], 0),
    (np.float32, [10.0, -10.0], 0),
    (np.float32, [0.0, -12.0, -12.0], 0),
])
def test_multinomial_gradient_of_a_confident_true_class(dtype, raw, y):
    """softmax_y - 1 for softmax_y close to 1 keeps its relative precision."""
    raw = np.array([raw], dtype=dtype)
    grad = MultinomialLogLoss().gradient([y], raw)[0]
    others = np.exp(np.delete(raw[0], y).astype(np.longdouble) - raw[0, y])
    expected = -others.sum() / (1 + others.sum())
    assert grad[y] < 0
    assert grad[y] == pytest.approx(float(expected), rel=RTOL[dtype])
    assert abs(grad.sum(dtype=np.float64)) <= 4 * np.finfo(dtype).eps * abs(grad[y])


def test_multinomial_gradient_matches_central_finite_difference():
    rng = np.random.default_rng(3)
    raw = 2 * rng.standard_normal((500, 4))
    y = rng.integers(0, 4, 500)
    loss = MultinomialLogLoss()
    h = 1e-6
    grads = loss.gradient(y, raw)
    for k in range(4):
        step = np.zeros_like(raw)
        step[:, k] = h
        numeric = (loss.loss(y, raw + step) - loss.loss(y, raw - step)) / (2 * h)
        assert_allclose(grads[:, k], numeric, rtol=1e-6, atol=1e-8)


# -- scikit-learn as a second reference ---------------------------------------------
def test_matches_scikit_learn_sgd_losses():
    from sklearn.linear_model import _sgd_fast

    sk = {
        "hinge": _sgd_fast.Hinge(1.0),
        "perceptron": _sgd_fast.Hinge(0.0),
        "squared_hinge": _sgd_fast.SquaredHinge(1.0),
        "modified_huber": _sgd_fast.ModifiedHuber(),
        "epsilon_insensitive": _sgd_fast.EpsilonInsensitive(EPSILON),
        "squared_epsilon_insensitive": _sgd_fast.SquaredEpsilonInsensitive(EPSILON),
    }
    rng = np.random.default_rng(4)
    for name, sk_loss in sk.items():
        y, raw = sample(name, 300, np.float64, rng)
        # the kinks too, where the subgradient convention matters
        raw = np.concatenate([raw, y * 1.0, y * 0.0, y * -1.0, y + EPSILON])
        y = np.concatenate([y] * 5)
        ours = make_loss(name)
        expected_loss = [sk_loss.py_loss(p, t) for p, t in zip(raw, y)]
        expected_grad = [sk_loss.py_dloss(p, t) for p, t in zip(raw, y)]
        assert_allclose(ours.loss(y, raw), expected_loss, rtol=1e-12, err_msg=name)
        assert_allclose(ours.gradient(y, raw), expected_grad, rtol=1e-12, err_msg=name)


def test_matches_scikit_learn_private_losses():
    from sklearn._loss import loss as sk

    rng = np.random.default_rng(5)
    y, raw = sample("squared_error", 1000, np.float64, rng)
    for ours, theirs in [(SquaredError(), sk.HalfSquaredError()),
                         (Huber(epsilon=EPSILON), sk.HuberLoss(delta=EPSILON))]:
        assert_allclose(ours.loss(y, raw), theirs.loss(y, raw), rtol=1e-12)
        assert_allclose(ours.gradient(y, raw), theirs.gradient(y, raw), rtol=1e-12)
    # the quantile losses, the kinks y == p included
    y_kinks = np.concatenate([y, raw])
    raw_kinks = np.concatenate([raw, raw])
    for ours, theirs in [(Quantile(QUANTILE), sk.PinballLoss(quantile=QUANTILE)),
                         (Quantile(0.5), sk.PinballLoss(quantile=0.5)),
                         (AbsoluteError(), sk.AbsoluteError())]:
        assert_allclose(ours.loss(y_kinks, raw_kinks), theirs.loss(y_kinks, raw_kinks),
                        rtol=1e-12)
        assert_array_equal(ours.gradient(y_kinks, raw_kinks),
                           theirs.gradient(y_kinks, raw_kinks))
    y01 = rng.integers(0, 2, 1000).astype(np.float64)
    theirs = sk.HalfBinomialLoss()
    # scikit-learn evaluates log1pexp(p) - y p, which cancels for y = 1, p >> 0 (an
    # absolute error of ~1e-15 on a small loss); sklloss evaluates log1pexp(-z)
    # directly, checked to 1e-10 relative against the exact form above. Hence atol.
    assert_allclose(LogLoss().loss(y01, raw), theirs.loss(y01, raw), rtol=1e-12, atol=1e-14)
    assert_allclose(LogLoss().gradient(y01, raw), theirs.gradient(y01, raw), rtol=1e-12)
    raw3 = rng.standard_normal((1000, 3))
    y3 = rng.integers(0, 3, 1000).astype(np.float64)
    theirs = sk.HalfMultinomialLoss(n_classes=3)
    assert_allclose(MultinomialLogLoss().loss(y3, raw3), theirs.loss(y3, raw3), rtol=1e-12)
    assert_allclose(MultinomialLogLoss().gradient(y3, raw3),
                    theirs.gradient(y3, raw3), rtol=1e-12)



TWEEDIE_POWERS = [0.0, 1.0, 1.5, 2.0, 3.0, -1.0, POWER]  # 0, 1, 2: special cases


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("power", TWEEDIE_POWERS)
def test_log_link_losses_match_scikit_learn_half_deviances(power, dtype):
    """Poisson, Gamma and Tweedie(power) equal scikit-learn's HalfPoissonLoss,
    HalfGammaLoss and HalfTweedieLoss(power), its special powers 0, 1, 2 included."""
    from sklearn._loss import loss as sk

    rng = np.random.default_rng(11)
    raw = rng.uniform(-8, 8, 3000)
    if power <= 0:
        y = 5 * rng.standard_normal(3000)
    elif power < 2:
        y = rng.poisson(np.exp(raw / 2)).astype(np.float64)  # zeros included
    else:
        y = rng.gamma(2.0, np.exp(raw / 2))
    pairs = [(Tweedie(power=power), sk.HalfTweedieLoss(power=power))]
    if power == 1:
        pairs.append((Poisson(), sk.HalfPoissonLoss()))
    if power == 2:
        pairs.append((Gamma(), sk.HalfGammaLoss()))
    y_in, raw_in = y.astype(dtype), raw.astype(dtype)
    for ours, theirs in pairs:
        # scikit-learn in float64 on the same (rounded) inputs
        expected_loss, expected_grad = theirs.loss_gradient(
            y_in.astype(np.float64), raw_in.astype(np.float64))
        got_loss, got_grad = ours.loss_gradient(y_in, raw_in)
        assert got_loss.dtype == dtype
        # relative to the larger of the terms that cancel, exp(p)-sized in magnitude
        size = np.abs(expected_loss) + np.exp(np.abs((2 - power) * raw)) + np.abs(y * raw)
        assert np.max(np.abs(got_loss - expected_loss) / size) < RTOL[dtype], ours
        size = np.abs(expected_grad) + np.exp(np.abs((2 - power) * raw))
        assert np.max(np.abs(got_grad - expected_grad) / size) < RTOL[dtype], ours
        assert_allclose(ours.loss(y_in, raw_in), got_loss, rtol=1e-7 if dtype == np.float32
                        else 1e-15)
        assert_allclose(ours.gradient(y_in, raw_in), got_grad,
                        rtol=1e-7 if dtype == np.float32 else 1e-15)


def _tweedie_reference(y, p, rho):
    """The direct formulas in float64, a term y * exp(...) being 0 for y == 0, and
    inf - inf (both terms overflowing) replaced by its limit: +inf for the loss, +-inf
    with the sign of p for the derivative (the term with the larger exponent wins)."""
    with np.errstate(over="ignore", invalid="ignore"):
        e = np.exp(p)
        if rho == 0:
            value, grad = 0.5 * (e - y) ** 2, e * (e - y)
        elif rho == 1:
            value, grad = e - np.where(y == 0, 0.0, y * p), e - y
        elif rho == 2:
            term = np.where(y == 0, 0.0, y * np.exp(-p))
            value, grad = p + term, 1 - term
        else:
            e2 = np.exp((2 - rho) * p)
            e1 = np.where(y == 0, 0.0, y * np.exp((1 - rho) * p))
            value, grad = e2 / (2 - rho) - e1 / (1 - rho), e2 - e1
    value = np.where(np.isnan(value), np.inf, value)
    grad = np.where(np.isnan(grad), np.copysign(np.inf, p), grad)
    return value, grad


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("power", TWEEDIE_POWERS)
def test_log_link_losses_never_nan_up_to_the_float_range(power, dtype):
    """|p| up to the largest float: the value, or its limit (+-inf), never NaN."""
    big = float(np.finfo(dtype).max)
    raw = np.array([big, -big, 1e4, -1e4, 700.0, -700.0, 80.0, -80.0, 0.0], dtype=dtype)
    losses_ = [Tweedie(power=power)] + (
        [Poisson()] if power == 1 else [Gamma()] if power == 2 else [])
    for loss in losses_:
        for y_value in (0.0, 1.0, 1e30, -1.0):
            if not loss.interval_y_true.includes([y_value]):
                continue
            y = np.full(raw.shape, y_value, dtype=dtype)
            values, grads = loss.loss_gradient(y, raw)
            assert not np.isnan(values).any() and not np.isnan(grads).any(), (
                loss, y_value, values, grads)
            # float32 computes in float32: the reference sees float32 overflow too
            expected_value, expected_grad = _tweedie_reference(
                y.astype(np.float64), raw.astype(np.float64), power)
            if dtype == np.float32:
                with np.errstate(over="ignore"):
                    expected_value = expected_value.astype(np.float32)
                    expected_grad = expected_grad.astype(np.float32)
                finite = np.abs(raw) < 40  # where float32 intermediates do not overflow
                assert_allclose(values[finite], expected_value[finite], rtol=1e-5)
                assert_allclose(grads[finite], expected_grad[finite], rtol=1e-5)
                # beyond: the same infinities (float32's exp overflows sooner)
                infinite = np.isinf(expected_value)
                assert_array_equal(values[infinite], expected_value[infinite])
                infinite = np.isinf(expected_grad)
                assert_array_equal(grads[infinite], expected_grad[infinite])
            else:
                assert_allclose(values, expected_value, rtol=1e-13)
                assert_allclose(grads, expected_grad, rtol=1e-13)


def test_log_link_losses_limits_at_zero_counts():
    """y == 0: Poisson's loss is exp(p) (no 0 * inf); Tweedie 1 < power < 2's is
    exp((2 - power) p) / (2 - power), which tends to 0 as p -> -inf."""
    raw = np.array([-1e300, -1e4, -10.0, 0.0, 10.0])
    assert_allclose(Poisson().loss(np.zeros(5), raw), np.exp(raw), rtol=1e-15)
    with np.errstate(over="ignore"):
        expected = np.exp(0.5 * raw) / 0.5
    assert_allclose(Tweedie(power=1.5).loss(np.zeros(5), raw), expected, rtol=1e-15)
    assert_allclose(Tweedie(power=1.5).gradient(np.zeros(5), raw), np.exp(0.5 * raw),
                    rtol=1e-15)


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_targets_outside_the_domain_raise_naming_it(name):
    loss = make_loss(name)
    domain = loss.interval_y_true
    if domain.is_real_line or name in BINARY:
        return
    outside = -1.0 if domain.low_inclusive else 0.0
    with pytest.raises(ValueError, match=rf"{type(loss).__name__} takes y_true in "
                                         rf"{re.escape(str(domain))}; got {outside}"):
        loss.loss([1.0, outside, 2.0], [0.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="y_true contains NaN"):
        loss.gradient([1.0, np.nan, 2.0], [0.0, 0.0, 0.0])


def test_tweedie_and_quantile_parameters():
    assert Tweedie().power == 1.5 and Quantile().quantile == 0.5
    assert str(Tweedie(power=0).interval_y_true) == "(-inf, inf)"
    assert str(Tweedie(power=1.0).interval_y_true) == "[0, inf)"
    assert str(Tweedie(power=2.0).interval_y_true) == "(0, inf)"
    for power in (0.5, 0.01):
        with pytest.raises(ValueError, match="no Tweedie distribution exists"):
            Tweedie(power=power)
    for bad in (np.nan, np.inf):
        with pytest.raises(ValueError, match="power must be a finite number"):
            Tweedie(power=bad)
    with pytest.raises(TypeError, match="power must be a real number"):
        Tweedie(power="1.5")
    for q in (0.0, 1.0, -0.1, 1.5, np.nan):
        with pytest.raises(ValueError, match=r"quantile must be a finite number in \(0, 1\)"):
            Quantile(quantile=q)
    assert Tweedie(power=1.2) != Tweedie(power=1.3)
    assert Tweedie(power=1.2).kernel_params()["power"] == 1.2
    assert Quantile(quantile=0.9).kernel_params()["quantile"] == 0.9
    loss = Tweedie(power=1.2)
    with pytest.raises(ValueError, match="no Tweedie distribution"):
        loss.set_params(power=0.5)
    assert loss.power == 1.2


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_fit_intercept_only_is_the_best_constant(name):
    """The constant raw prediction fit_intercept_only gives minimises the weighted
    mean loss over constants (checked on a grid around it)."""
    if name in BINARY:
        return
    rng = np.random.default_rng(12)
    y, _ = sample(name, 501, np.float64, rng)
    w = rng.uniform(0.5, 2.0, y.shape[0])
    loss = make_loss(name)
    if not loss.starts_at_best_constant:
        return
    best = loss.fit_intercept_only(y, w)
    at_best = loss(y, np.full(y.shape, best), sample_weight=w)
    for delta in (-1e-2, -1e-4, 1e-4, 1e-2):
        assert at_best <= loss(y, np.full(y.shape, best + delta), sample_weight=w) + 1e-12
    if isinstance(loss.link, LogLink):
        assert best == pytest.approx(np.log(np.average(y, weights=w)), rel=1e-12)
    # a zero mean of counts: a finite start, not log(0)
    if name == "poisson":
        assert np.isfinite(loss.fit_intercept_only(np.zeros(3)))


# -- labels, weights, means ------------------------------------------------------------
@pytest.mark.parametrize("name", BINARY)
def test_zero_one_labels_equal_minus_one_plus_one(name):
    rng = np.random.default_rng(6)
    y01 = rng.integers(0, 2, 1000)
    raw = 3 * rng.standard_normal(1000)
    loss = make_loss(name)
    assert_array_equal(loss.loss(y01, raw), loss.loss(2 * y01 - 1, raw))
    assert_array_equal(loss.gradient(y01, raw), loss.gradient(2 * y01 - 1, raw))


@pytest.mark.parametrize("name", ELEMENTWISE + list(MULTICLASS))
def test_sample_weight_scales_and_weighted_mean(name):
    rng = np.random.default_rng(7)
    loss, y, raw = loss_and_data(name, 300, rng)
    w = rng.uniform(0, 3, 300)
    unweighted, unweighted_grad = loss.loss_gradient(y, raw)
    weighted, weighted_grad = loss.loss_gradient(y, raw, sample_weight=w)
    assert_allclose(weighted, w * unweighted, rtol=1e-15)
    w_col = w[:, None] if weighted_grad.ndim == 2 else w
    assert_allclose(weighted_grad, w_col * unweighted_grad, rtol=1e-15)
    assert_allclose(loss.loss(y, raw, sample_weight=w), weighted, rtol=1e-15)
    assert_allclose(loss.gradient(y, raw, sample_weight=w), weighted_grad, rtol=1e-15)
    assert loss(y, raw) == pytest.approx(np.mean(unweighted), rel=1e-12)
    assert loss(y, raw, sample_weight=w) == pytest.approx(
        np.sum(w * unweighted) / np.sum(w), rel=1e-12)
    # integer weights act as repetitions
    reps = rng.integers(0, 3, 300)
    if name == "multinomial_log_loss":
        repeated = loss(np.repeat(y, reps), np.repeat(raw, reps, axis=0))
    else:
        repeated = loss(np.repeat(y, reps), np.repeat(raw, reps))
    assert loss(y, raw, sample_weight=reps) == pytest.approx(repeated, rel=1e-12)


def test_call_returns_python_float_and_accumulates_float32_in_float64():
    y = np.ones(10**6, dtype=np.float32)
    raw = np.full(10**6, 0.1, dtype=np.float32)
    value = SquaredError()(y, raw)
    assert type(value) is float
    expected = 0.5 * float(np.float32(1) - np.float32(0.1)) ** 2
    assert value == pytest.approx(expected, rel=1e-6)


# -- dtypes, shapes, buffers ------------------------------------------------------------
@pytest.mark.parametrize("name", ELEMENTWISE)
def test_dtype_follows_raw_prediction(name):
    loss = make_loss(name)
    y = np.array([1, -1, 1]) if loss.interval_y_true.contains(-1.0) else np.array([1, 2, 3])
    for raw_dtype, out_dtype in [(np.float32, np.float32), (np.float64, np.float64),
                                 (np.int64, np.float64), (np.float16, np.float64)]:
        raw = np.array([0.5, 2, -3]).astype(raw_dtype)
        values, grads = loss.loss_gradient(y, raw)
        assert values.dtype == out_dtype and grads.dtype == out_dtype
        assert_allclose(values, ref_loss(name, y, raw.astype(np.float64)), rtol=RTOL[out_dtype])


def test_float32_mixed_with_float64_labels_stays_float32():
    y = np.array([0.25, 1.5], dtype=np.float64)
    raw = np.array([0.0, 1.0], dtype=np.float32)
    assert SquaredError().loss(y, raw).dtype == np.float32


def test_column_raw_prediction_is_accepted():
    y = np.array([1.0, 2.0, 3.0])
    raw = np.array([[0.0], [1.0], [2.0]])
    assert_array_equal(SquaredError().loss(y, raw), [0.5, 0.5, 0.5])
    assert SquaredError().gradient(y, raw).shape == (3,)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_out_buffers_are_filled_and_returned(dtype):
    y = np.array([1.0, -1.0, 1.0], dtype=dtype)
    raw = np.array([0.5, 0.5, 2.0], dtype=dtype)
    out = np.empty(3, dtype=dtype)
    result = Hinge().loss(y, raw, out=out)
    assert result is out
    assert_array_equal(out, [0.5, 1.5, 0.0])
    grad_out = np.empty(3, dtype=dtype)
    assert Hinge().gradient(y, raw, out=grad_out) is grad_out
    assert_array_equal(grad_out, [-1.0, 1.0, 0.0])
    loss_out, gradient_out = np.empty(3, dtype=dtype), np.empty(3, dtype=dtype)
    got = Hinge().loss_gradient(y, raw, loss_out=loss_out, gradient_out=gradient_out)
    assert got[0] is loss_out and got[1] is gradient_out
    raw2 = np.zeros((2, 3), dtype=dtype)
    gout = np.empty((2, 3), dtype=dtype)
    assert MultinomialLogLoss().gradient([0, 1], raw2, out=gout) is gout
    assert_allclose(gout, [[-2 / 3, 1 / 3, 1 / 3], [1 / 3, -2 / 3, 1 / 3]], rtol=RTOL[dtype])


def test_no_hidden_copy_of_matching_inputs():
    """float32 in with an out buffer: nothing of the inputs' size is allocated."""
    n = 10**6
    rng = np.random.default_rng(8)
    y = rng.integers(0, 2, n).astype(np.float32)
    raw = rng.standard_normal(n).astype(np.float32)
    out = np.empty(n, dtype=np.float32)
    LogLoss().loss(y, raw, out=out)  # warm up
    tracemalloc.start()
    try:
        LogLoss().loss(y, raw, out=out)
        LogLoss().loss_gradient(y, raw, loss_out=out, gradient_out=np.empty_like(out))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1.5 * raw.nbytes  # the one gradient buffer, no copy of y or raw


def test_in_place_output_over_raw_prediction():
    rng = np.random.default_rng(9)
    raw = rng.standard_normal(100)
    y = rng.standard_normal(100)
    expected = ref_loss("huber", y, raw)
    Huber(epsilon=EPSILON).loss(y, raw, out=raw)
    assert_allclose(raw, expected, rtol=1e-12)
    raw = rng.standard_normal((50, 4))
    labels = rng.integers(0, 4, 50)
    expected = softmax(raw, axis=1)
    expected[np.arange(50), labels] -= 1
    MultinomialLogLoss().gradient(labels, raw, out=raw)
    assert_allclose(raw, expected, rtol=1e-12, atol=1e-15)


# -- threads --------------------------------------------------------------------------
@pytest.mark.parametrize("name", ELEMENTWISE + list(MULTICLASS))
def test_two_threads_equal_one_thread(name):
    rng = np.random.default_rng(10)
    loss, y, raw = loss_and_data(name, 100_001, rng, n_classes=5)
    w = rng.uniform(0, 2, y.shape[0])
    one = loss.loss_gradient(y, raw, sample_weight=w, n_threads=1)
    two = loss.loss_gradient(y, raw, sample_weight=w, n_threads=2)
    assert_array_equal(one[0], two[0])
    assert_array_equal(one[1], two[1])
    assert_array_equal(loss.gradient(y, raw, n_threads=2), loss.gradient(y, raw))
    assert_array_equal(loss.loss(y, raw, n_threads=-1), loss.loss(y, raw))


# -- extremes ---------------------------------------------------------------------------
def test_log_loss_extreme_raw_float64():
    y = np.array([1.0, 1.0, -1.0, -1.0])
    raw = np.array([1e300, -1e300, 1e300, -1e300])
    values, grads = LogLoss().loss_gradient(y, raw)
    assert_array_equal(values, [0.0, 1e300, 1e300, 0.0])
    assert_array_equal(grads, [0.0, -1.0, 1.0, 0.0])
    assert_array_equal(LogLoss().loss(y, raw), values)
    assert_array_equal(LogLoss().gradient(y, raw), grads)


def test_log_loss_extreme_raw_float32():
    y = np.array([1, 1, 0, 0], dtype=np.float32)
    raw = np.array([3e38, -3e38, 3e38, -3e38], dtype=np.float32)
    values, grads = LogLoss().loss_gradient(y, raw)
    assert values.dtype == np.float32
    assert_array_equal(values, np.array([0.0, 3e38, 3e38, 0.0], dtype=np.float32))
    assert_array_equal(grads, [0.0, -1.0, 1.0, 0.0])
    assert_array_equal(LogLoss().loss(y, raw), values)
    assert_array_equal(LogLoss().gradient(y, raw), grads)


def test_log_loss_tiny_losses_keep_relative_precision():
    z = np.array([20.0, 40.0, 100.0, 700.0])
    values = LogLoss().loss(np.ones(4), z)
    assert_allclose(values, np.log1p(np.exp(-z)), rtol=1e-14)
    assert np.all(values > 0)


@pytest.mark.parametrize("dtype, big", [(np.float64, 1e150), (np.float32, 1e18)])
@pytest.mark.parametrize("name", [name for name in ELEMENTWISE if name not in LOG_LINK])
def test_large_finite_input_gives_finite_output(name, dtype, big):
    # (the log-link losses overflow to +-inf, their limits: tested above)
    raw = np.array([big, -big, 0.0, big / 3], dtype=dtype)
    y = np.array([1.0, -1.0, 1.0, -1.0], dtype=dtype) if name in BINARY else np.array(
        [-big, big, big / 2, 0.0], dtype=dtype)
    values, grads = make_loss(name).loss_gradient(y, raw)
    assert np.all(np.isfinite(values)) and np.all(np.isfinite(grads))
    assert_allclose(values, ref_loss(name, y, raw, float(np.asarray(EPSILON, dtype))),
                    rtol=RTOL[dtype])


@pytest.mark.parametrize("dtype, big", [(np.float64, 1e300), (np.float32, 1e38)])
def test_multinomial_extreme_raw(dtype, big):
    raw = np.array([[big, 0.0, -big], [big, 0.0, -big], [0.0, -big, big]], dtype=dtype)
    y = np.array([0, 1, 2])
    values, grads = MultinomialLogLoss().loss_gradient(y, raw)
    assert np.all(np.isfinite(values)) and np.all(np.isfinite(grads))
    assert_allclose(values, [0.0, big, 0.0], rtol=RTOL[dtype])
    assert_array_equal(grads, [[0, 0, 0], [1, -1, 0], [0, 0, 0]])


# -- errors ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", ELEMENTWISE + list(MULTICLASS))
def test_bad_input_raises_clear_errors(name):
    loss = get_loss(name)
    raw = np.zeros((3, 3)) if name == "multinomial_log_loss" else np.zeros(3)
    y = np.array([0.0, 1.0, 1.0]) if loss.interval_y_true.contains(0.0) else np.ones(3)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        loss.loss(y[:2], raw)
    with pytest.raises(ValueError, match="y_true contains NaN"):
        loss.loss([0.0, np.nan, 1.0], raw)
    with pytest.raises(ValueError, match="raw_prediction contains NaN"):
        bad_raw = raw.copy()
        bad_raw[1] = np.nan
        loss.gradient(y, bad_raw)
    with pytest.raises(ValueError, match="sample_weight contains NaN or infinity"):
        loss.loss(y, raw, sample_weight=[1.0, np.inf, 1.0])
    with pytest.raises(ValueError, match=r"sample_weight must have shape \(3,\)"):
        loss.loss(y, raw, sample_weight=[1.0, 1.0])
    with pytest.raises(ValueError, match="y_true must be 1-dimensional"):
        loss.loss(np.zeros((3, 2)), raw)
    with pytest.raises(ValueError, match="complex"):
        loss.loss(y.astype(complex), raw)
    with pytest.raises(ValueError, match="y_true must be numeric"):
        loss.loss(["a", "b", "c"], raw)
    with pytest.raises(ValueError, match="n_threads must be >= 1"):
        loss.loss(y, raw, n_threads=0)
    with pytest.raises(TypeError, match="n_threads must be an integer"):
        loss.loss(y, raw, n_threads=1.5)


def test_raw_prediction_shape_errors():
    with pytest.raises(ValueError, match=r"shape \(n_samples,\) or \(n_samples, 1\)"):
        SquaredError().loss(np.zeros(3), np.zeros((3, 2)))
    with pytest.raises(ValueError, match=r"shape \(n_samples, n_classes\)"):
        MultinomialLogLoss().loss(np.zeros(3), np.zeros(3))


@pytest.mark.parametrize("name", BINARY)
def test_binary_labels_outside_the_two_conventions_raise(name):
    with pytest.raises(ValueError, match=r"binary loss.*\{-1, \+1\} or \{0, 1\}; got 2.0"):
        make_loss(name).loss([1, 2, 0], [0.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="got 0.5"):
        make_loss(name).gradient([1, 0.5, -1], [0.0, 0.0, 0.0])


def test_regression_infinite_target_raises():
    with pytest.raises(ValueError, match="y_true contains infinity"):
        SquaredError().loss([0.0, np.inf], [0.0, 0.0])


def test_multinomial_label_errors():
    raw = np.zeros((3, 3))
    with pytest.raises(ValueError, match=r"integer classes 0 \.\. 2.*got 3.0"):
        MultinomialLogLoss().loss([0, 1, 3], raw)
    with pytest.raises(ValueError, match="got -1.0"):
        MultinomialLogLoss().loss([0, -1, 2], raw)
    with pytest.raises(ValueError, match="got 0.5"):
        MultinomialLogLoss().gradient([0, 0.5, 2], raw)
    with pytest.raises(ValueError, match="contains infinity"):
        MultinomialLogLoss().loss([0, 1, 2], np.array([[np.inf, 0, 0]] * 3))


def test_out_buffer_errors():
    y, raw = np.zeros(4), np.zeros(4)
    with pytest.raises(ValueError, match="out must have dtype float64"):
        SquaredError().loss(y, raw, out=np.empty(4, dtype=np.float32))
    with pytest.raises(ValueError, match=r"out must have shape \(4,\)"):
        SquaredError().loss(y, raw, out=np.empty(5))
    with pytest.raises(ValueError, match="C-contiguous"):
        SquaredError().loss(y, raw, out=np.empty(8)[::2])
    read_only = np.empty(4)
    read_only.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        SquaredError().loss(y, raw, out=read_only)
    with pytest.raises(TypeError, match="numpy array"):
        SquaredError().loss(y, raw, out=[0.0] * 4)
    shared = np.empty(4)
    with pytest.raises(ValueError, match="must not overlap"):
        SquaredError().loss_gradient(y, raw, loss_out=shared, gradient_out=shared)


def test_mean_errors():
    with pytest.raises(ValueError, match="zero samples"):
        SquaredError()([], [])
    with pytest.raises(ValueError, match="sums to zero"):
        SquaredError()([1.0], [0.0], sample_weight=[0.0])


def test_empty_input_gives_empty_output():
    assert SquaredError().loss([], []).shape == (0,)
    assert MultinomialLogLoss().gradient([], np.zeros((0, 3))).shape == (0, 3)


# -- objects: registry, parameters, equality --------------------------------------------
def test_get_loss_maps_scikit_learn_names():
    # one name per loss: the registry's name, the class's name in CamelCase, the kernel
    # code's name in capitals (and the scalar kernels', checked by test_cimport)
    for name, cls in losses.LOSSES.items():
        assert type(get_loss(name)) is cls
        assert get_loss(name).name == cls.name == name
        assert cls.__name__ == "".join(part.title() for part in name.split("_"))
        assert cls.kernel.name == name.upper()
        assert getattr(losses, cls.__name__) is cls  # exported
    assert len({cls.kernel for cls in losses.LOSSES.values()}) == len(losses.LOSSES)
    from sklearn.linear_model import SGDClassifier, SGDRegressor

    # every scikit-learn SGD loss name is served, and sklloss adds the multinomial one
    theirs = (set(SGDClassifier._parameter_constraints["loss"][0].options)
              | set(SGDRegressor._parameter_constraints["loss"][0].options))
    assert theirs <= set(losses.LOSSES)
    # sklloss adds the multinomial loss, and the losses of scikit-learn's GLM and
    # quantile estimators (which its SGD lacks)
    assert set(losses.LOSSES) - theirs == {"multinomial_log_loss", "poisson", "gamma",
                                            "tweedie", "quantile", "absolute_error"}


def test_get_loss_errors_and_passthrough():
    with pytest.raises(ValueError, match="Unknown loss 'absolute'"):
        get_loss("absolute")
    with pytest.raises(TypeError, match="takes no parameters"):
        get_loss("hinge", epsilon=1.0)
    huber = Huber(epsilon=2.0)
    assert get_loss(huber) is huber
    assert get_loss("huber", epsilon=2.0) == huber


@pytest.mark.parametrize("cls", [Huber, EpsilonInsensitive, SquaredEpsilonInsensitive])
def test_epsilon_validation_and_default(cls):
    assert cls().epsilon == 0.1  # scikit-learn's DEFAULT_EPSILON
    for bad in (-1.0, np.nan, np.inf):
        with pytest.raises(ValueError, match="epsilon must be a finite number >= 0"):
            cls(epsilon=bad)
    with pytest.raises(TypeError, match="epsilon must be a real number"):
        cls(epsilon="1")
    loss = cls(epsilon=1.0)
    with pytest.raises(ValueError, match="epsilon"):
        loss.set_params(epsilon=-2)
    assert loss.epsilon == 1.0  # unchanged by the failed set_params
    assert loss.set_params(epsilon=3.0).epsilon == 3.0


def test_params_repr_equality_pickle_clone():
    import pickle

    from sklearn.base import clone

    huber = Huber(epsilon=2.0)
    assert repr(huber) == "Huber(epsilon=2.0)"
    assert repr(Hinge()) == "Hinge()"
    assert huber.get_params() == {"epsilon": 2.0}
    assert huber == Huber(epsilon=2.0) and huber != Huber(epsilon=1.0) and huber != Hinge()
    assert hash(huber) == hash(Huber(epsilon=2.0))
    restored = pickle.loads(pickle.dumps(huber))
    assert restored == huber
    cloned = clone(huber)
    assert cloned == huber and cloned is not huber
    assert_array_equal(restored.loss([0.0], [5.0]), huber.loss([0.0], [5.0]))


def test_epsilon_parameter_is_used():
    y, raw = np.zeros(1), np.array([3.0])
    assert Huber(epsilon=1.0).loss(y, raw)[0] == pytest.approx(2.5)
    assert Huber(epsilon=2.0).loss(y, raw)[0] == pytest.approx(4.0)
    assert EpsilonInsensitive(epsilon=1.0).loss(y, raw)[0] == pytest.approx(2.0)
    assert SquaredEpsilonInsensitive(epsilon=1.0).loss(y, raw)[0] == pytest.approx(4.0)


def test_base_loss_is_not_a_loss():
    with pytest.raises(TypeError, match="no kernel"):
        losses.BaseLoss()


def test_task_attribute():
    assert {get_loss(n).task for n in REGRESSION} == {"regression"}
    assert {get_loss(n).task for n in BINARY} == {"binary"}
    assert MultinomialLogLoss().task == "multiclass"


@pytest.mark.parametrize("dtype, z", [(np.float64, 720.0), (np.float64, 40.0),
                                      (np.float32, 95.0), (np.float32, 20.0)])
def test_log_loss_gradient_keeps_tiny_values(dtype, z):
    """-1 / (1 + e^z) ~ -e^-z stays representable (as a subnormal) past exp's overflow."""
    y = np.ones(1, dtype=dtype)
    raw = np.array([z], dtype=dtype)
    expected = -np.exp(-np.float64(z))
    gradient = LogLoss().gradient(y, raw)[0]
    assert gradient < 0
    assert gradient == pytest.approx(expected, rel=2e-5 if dtype == np.float32 else 1e-12,
                                      abs=float(np.finfo(dtype).smallest_subnormal))
    assert gradient == LogLoss().loss_gradient(y, raw)[1][0]


def _exp_ulps(x, out, dtype):
    """Errors of `out` = exp(x) against exp in long double: (ulps of the normal
    results, errors of the subnormal ones in units of the smallest subnormal), and the
    masks of the results that round to 0 and to inf."""
    exact = np.exp(x.astype(np.longdouble))
    with np.errstate(over="ignore"):
        rounded = exact.astype(dtype)
    info = np.finfo(dtype)
    normal = np.isfinite(rounded) & (np.abs(rounded) >= info.tiny)
    ulps = np.abs(out[normal] - exact[normal]) / np.spacing(rounded[normal])
    subnormal = np.isfinite(rounded) & (rounded != 0) & ~normal
    sub_errors = np.abs(out[subnormal] - exact[subnormal]) / info.smallest_subnormal
    return ulps, sub_errors, rounded == 0, np.isinf(rounded)


def _check_exp_specials(dtype, version="kernels"):
    from sklloss.losses._kernels import _exp_array

    special = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, -np.nan], dtype=dtype)
    special_out = np.empty_like(special)
    _exp_array(special, special_out, version)
    assert np.isnan(special_out[0]) and np.isnan(special_out[5])
    assert_array_equal(special_out[1:5], [np.inf, 0.0, 1.0, 1.0])


def test_kernel_exp_accuracy_float32():
    """The kernels' float32 exp (a polynomial) against exp in long double."""
    from sklloss.losses._kernels import _exp_array

    rng = np.random.default_rng(11)
    x = np.concatenate([np.linspace(-110.0, 95.0, 400_001),
                        rng.uniform(-20, 20, 200_000)]).astype(np.float32)
    out = np.empty_like(x)
    _exp_array(x, out)
    ulps, sub_errors, zero, inf = _exp_ulps(x, out, np.float32)
    assert ulps.max() <= 1.5  # measured 1.19
    assert sub_errors.size and sub_errors.max() <= 1
    assert np.all(out[zero] == 0)
    assert np.all(np.isinf(out[inf]))
    _check_exp_specials(np.float32)


def _exp_f64_versions():
    from sklloss.losses._kernels import _has_avx2_fma

    return ["kernels", "baseline"] + (["avx2"] if _has_avx2_fma() else [])


@pytest.mark.skipif(np.finfo(np.longdouble).nmant < 63,
                    reason="needs an 80-bit long double as the reference")
@pytest.mark.parametrize("version", ["kernels", "baseline", "avx2"])
def test_kernel_exp_accuracy_float64(version):
    """The array kernels' float64 exp (a polynomial, compiled for baseline x86-64 and
    for AVX2 + FMA) against exp in long double, over its whole range: overflow to inf,
    subnormal results, underflow to 0, the edges of each."""
    from sklloss.losses._kernels import _exp_array

    if version not in _exp_f64_versions():
        pytest.skip("this CPU has no AVX2 and FMA")
    rng = np.random.default_rng(11)
    edges = [709.782712893384, -708.3964185322641, -745.1332191019411, -745.1332191019412,
             -744.44007192138, 0.0, np.log(2) / 2, -np.log(2) / 2]
    x = np.concatenate([
        np.linspace(-760.0, 720.0, 1_000_001),
        rng.uniform(-1, 1, 300_000),
        rng.uniform(-20, 20, 300_000),
        rng.uniform(-746, -707, 200_000),  # subnormal results and the edge to normal
        np.concatenate([e + np.arange(-50, 51) * np.spacing(e) for e in edges]),
        # every reduced argument r near the ends of [-ln2 / 2, ln2 / 2]
        np.log(2) * (rng.integers(-1070, 1020, 100_000) + rng.choice([-0.5, 0.5], 100_000)
                     + rng.uniform(-1e-6, 1e-6, 100_000)),
    ])
    out = np.empty_like(x)
    _exp_array(x, out, version)
    ulps, sub_errors, zero, inf = _exp_ulps(x, out, np.float64)
    assert ulps.max() <= 1.0  # measured 0.82 (both versions)
    assert np.mean(ulps) < 0.3  # correctly rounded mostly (glibc: 0.5 ulp at most)
    assert sub_errors.size and sub_errors.max() <= 1  # measured 0.83
    assert np.all(out[zero] == 0)
    assert np.all(np.isinf(out[inf]))
    assert np.all(np.isfinite(out[~inf]))
    _check_exp_specials(np.float64, version)


@pytest.mark.parametrize("version", ["baseline", "avx2"])
def test_kernel_exp_float64_against_decimal(version):
    """The same exp against Python's decimal module (correctly rounded at 40 digits), an
    independent reference that needs no long double."""
    from decimal import Context, Decimal

    from sklloss.losses._kernels import _exp_array

    if version not in _exp_f64_versions():
        pytest.skip("this CPU has no AVX2 and FMA")
    rng = np.random.default_rng(12)
    x = np.concatenate([rng.uniform(-745, 709.7, 3000), rng.uniform(-0.35, 0.35, 1000),
                        [-745.1, -740.0, -708.5, 709.78]])
    out = np.empty_like(x)
    _exp_array(x, out, version)
    context = Context(prec=40, Emin=-2000, Emax=2000)
    worst = 0
    for xi, got in zip(x.tolist(), out.tolist()):
        exact = context.exp(Decimal(xi))
        unit = Decimal(float(np.spacing(max(float(exact), np.finfo(np.float64).tiny))))
        worst = max(worst, abs(Decimal(got) - exact) / unit)
    assert worst <= 1


def test_kernel_exp_float64_versions_agree_to_one_ulp():
    from sklloss.losses._kernels import _exp_array

    if "avx2" not in _exp_f64_versions():
        pytest.skip("this CPU has no AVX2 and FMA")
    x = np.random.default_rng(13).uniform(-750, 712, 1_000_000)
    baseline, avx2 = np.empty_like(x), np.empty_like(x)
    _exp_array(x, baseline, "baseline")
    _exp_array(x, avx2, "avx2")
    finite = np.isfinite(baseline) & (baseline > 0)
    assert_array_equal(np.isfinite(avx2), np.isfinite(baseline))
    assert np.all(np.abs(baseline[finite] - avx2[finite]) <= np.spacing(baseline[finite]))


@pytest.fixture(params=["baseline", "avx2"])
def exp_f64_version(request):
    """Run the array kernels with each compiled version of their float64 exp."""
    from sklloss.losses import _kernels

    if request.param not in _exp_f64_versions():
        pytest.skip("this CPU has no AVX2 and FMA")
    chosen = _kernels.EXP_F64_VERSION
    _kernels._set_exp_f64_version(request.param)
    yield request.param
    _kernels._set_exp_f64_version(chosen)


def test_exp_losses_under_each_exp_version(exp_f64_version):
    """The losses whose array kernels use the vectorised exp, against their closed
    forms and at their extremes, with each version of it."""
    test_values_and_gradients_match_closed_forms("log_loss", np.float64)
    for n_classes in (2, 3, 10):
        test_multinomial_matches_closed_form(n_classes, np.float64)
    test_log_loss_extreme_raw_float64()
    test_log_loss_tiny_losses_keep_relative_precision()
    for z in (720.0, 40.0):
        test_log_loss_gradient_keeps_tiny_values(np.float64, z)
    test_multinomial_extreme_raw(np.float64, 1e300)
    test_multinomial_gradient_of_a_confident_true_class(np.float64, [0.0, -40.0], 0)
    test_multinomial_gradient_of_a_confident_true_class(np.float64, [5.0, -30.0, -31.0], 0)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n_classes", [1, 511, 512, 513, 700])
def test_multinomial_any_number_of_classes(n_classes, dtype):
    """Rows of up to 512 classes go through the blocks of exps, wider ones one by one:
    both against the closed form."""
    rng = np.random.default_rng(14)
    n = 40
    raw = (3 * rng.standard_normal((n, n_classes))).astype(dtype)
    y = rng.integers(0, n_classes, n)
    raw64 = raw.astype(np.float64)
    rows = np.arange(n)
    shifted = np.exp(raw64 - raw64[rows, y][:, None])
    shifted[rows, y] = 0
    expected_grad = softmax(raw64, axis=1)
    expected_grad[rows, y] = 0
    expected_grad[rows, y] = -expected_grad.sum(axis=1)
    values, grads = MultinomialLogLoss().loss_gradient(y, raw)
    atol = 1e-6 if dtype == np.float32 else 0.0
    assert_allclose(values, np.log1p(shifted.sum(axis=1)), rtol=RTOL[dtype], atol=atol)
    assert_allclose(grads, expected_grad, rtol=RTOL[dtype] * 10, atol=atol or 1e-300)
    assert_array_equal(MultinomialLogLoss().loss(y, raw), values)
    assert_array_equal(MultinomialLogLoss().gradient(y, raw), grads)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", ELEMENTWISE)
def test_infinite_raw_predictions_are_good_input(name, dtype):
    """The kernels' check flags an infinite raw prediction too (it is the cheaper
    check); the slow path then finds nothing wrong: no error, and every other
    sample's results as without it."""
    rng = np.random.default_rng(17)
    y, raw = sample(name, 3000, dtype, rng)
    loss = make_loss(name)
    with_inf = raw.copy()
    with_inf[[5, 1700]] = [np.inf, -np.inf]
    others = np.ones(len(y), dtype=bool)
    others[[5, 1700]] = False
    for method in ("loss", "gradient", "loss_gradient"):
        expected = getattr(loss, method)(y, raw)
        with np.errstate(all="ignore"):
            got = getattr(loss, method)(y, with_inf)
        for got_one, expected_one in zip(np.atleast_2d(got), np.atleast_2d(expected)):
            assert_array_equal(got_one[others], expected_one[others])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("position", [0, 511, 512, 8191, 8192, 8192 + 513, 19_999])
@pytest.mark.parametrize("name", ["log_loss", "multinomial_log_loss", "squared_error",
                                  "hinge"])
def test_one_bad_element_anywhere_is_found(name, position, dtype):
    """A bad element at the edges of the blocks of exps (512 elements) and of the
    threads' chunks (8192) raises, in every method."""
    rng = np.random.default_rng(15)
    loss, y, raw = loss_and_data(name, 20_000, rng, n_classes=3)
    y, raw = y.astype(dtype), raw.astype(dtype)
    cases = [("raw_prediction contains NaN", y, raw.copy())]
    cases[0][2][position] = np.nan
    bad_y = y.copy()
    bad_y[position] = np.nan
    cases.append(("y_true contains NaN", bad_y, raw))
    if name in ("log_loss", "hinge", "multinomial_log_loss"):
        bad_label = y.copy()
        bad_label[position] = 0.5
        message = "integer classes" if name == "multinomial_log_loss" else "binary loss"
        cases.append((message, bad_label, raw))
    for message, y_case, raw_case in cases:
        for n_threads in (1, 2):
            for method in (loss.loss, loss.gradient, loss.loss_gradient):
                with pytest.raises(ValueError, match=message):
                    method(y_case, raw_case, n_threads=n_threads)
    weights = np.ones(len(y), dtype=dtype)
    weights[position] = np.inf
    with pytest.raises(ValueError, match="sample_weight contains NaN or infinity"):
        loss.loss_gradient(y, raw, sample_weight=weights)


def test_read_only_and_strided_inputs():
    rng = np.random.default_rng(12)
    y = rng.standard_normal(1000)
    raw = rng.standard_normal(2000)[::2]  # strided: converted once
    w = rng.uniform(0, 1, 1000)
    for array in (y, w):
        array.flags.writeable = False
    expected = w * ref_loss("huber", y, raw)
    assert_allclose(Huber(epsilon=EPSILON).loss(y, raw, sample_weight=w), expected,
                    rtol=1e-12)
    # more threads than cores still gives the one-thread result
    assert_array_equal(Huber(epsilon=EPSILON).loss(y, raw, n_threads=8),
                       Huber(epsilon=EPSILON).loss(y, raw))
