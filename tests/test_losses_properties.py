"""Property tests of the public loss objects (hypothesis).

Every property is a mathematical fact about the losses (non-negativity, convexity,
the sign of the derivative, monotonicity in the margin, agreement between entry
points, precisions and thread counts), checked on generated float64 inputs; nothing
here is derived from the kernels' code. Each property runs once per loss, so that
every loss gets its own examples.
"""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from sklloss.losses import LOSSES, LogLink, MultinomialLogLoss, get_loss

from loss_lists import ALL, BINARY, EPSILON_LOSSES, REGRESSION, SINGLE_OUTPUT

BOUND = 1e6  # |raw|, |y| for the float64 properties
LOG_BOUND = 30.0  # |raw| under a log link (exp(raw) up to 1e13)
BOUND32_REGRESSION = 1e3  # modest ranges for the float32 comparison
BOUND32_MARGIN = 50.0
MAX_N = 8
TINY = np.finfo(np.float64).tiny  # subnormals (below it) have no relative accuracy

SETTINGS = settings(max_examples=40, deadline=None)


# -- strategies -----------------------------------------------------------------------
def finite(bound):
    return st.floats(-bound, bound, allow_nan=False, allow_infinity=False)


def reals(bound):
    """Finite floats in [-bound, bound], often small: the kinks of the losses are at
    margins -1, 0, 1 and at residuals +-epsilon (<= 10), which a uniform draw over
    [-1e6, 1e6] almost never comes near."""
    return st.one_of(finite(bound), finite(min(bound, 3.0)), finite(min(bound, 30.0)))


epsilons = st.one_of(st.sampled_from([0.0, 0.1, 1.0, 2.5]),
                     st.floats(0.0, 10.0, allow_nan=False, allow_infinity=False))


def _array(draw, shape, elements):
    # fill=nothing(): every element drawn on its own, not one fill value and a few others
    return draw(hnp.arrays(np.float64, shape, elements=elements, fill=st.nothing()))


def _draw_raws(draw, shape, bound, n_raw, center=None):
    """n_raw arrays of raw predictions: the first anywhere (or, when `center` is given,
    possibly near it: the regression target), each further one either anywhere or a
    small-to-large step away from the first (pairs that straddle a single kink)."""
    first = _array(draw, shape, reals(bound))
    if center is not None and draw(st.booleans()):
        first = np.clip(center + _array(draw, shape, reals(bound)), -bound, bound)
    raws = [first]
    for _ in range(n_raw - 1):
        if draw(st.booleans()):
            raws.append(_array(draw, shape, reals(bound)))
        else:
            step = st.one_of(finite(1e-3), finite(1.0), finite(bound))
            raws.append(np.clip(first + _array(draw, shape, step), -bound, bound))
    return raws


def make_loss(name, epsilon=0.1, quantile=0.3):
    if name in EPSILON_LOSSES:
        return get_loss(name, epsilon=epsilon)
    if "quantile" in LOSSES[name]._parameter_names:
        return get_loss(name, quantile=quantile)
    return get_loss(name)


def is_log_link(name):
    return isinstance(LOSSES[name].link, LogLink)


def in_domain(loss, y):
    """Targets moved into the loss's domain: |y| where it takes y >= 0, and at least
    1e-3 where it takes y > 0."""
    domain = loss.interval_y_true
    if domain.low == 0:
        y = np.abs(y)
        if not domain.low_inclusive:
            y = np.maximum(y, 1e-3)
    return y


quantiles = st.floats(0.01, 0.99, allow_nan=False)


@st.composite
def cases(draw, name, bound=BOUND, n_raw=1):
    """(loss, y, [raw_1, .., raw_n_raw]), float64.

    Binary labels in {-1, +1}; multinomial: K in 2..6 columns, classes 0..K-1.
    """
    n = draw(st.integers(1, MAX_N))
    if name == "multinomial_log_loss":
        n_classes = draw(st.integers(2, 6))
        y = _array(draw, n, st.integers(0, n_classes - 1).map(float))
        return MultinomialLogLoss(), y, _draw_raws(draw, (n, n_classes), bound, n_raw)
    loss = make_loss(name, draw(epsilons), draw(quantiles))
    if name in BINARY:
        y = _array(draw, n, st.sampled_from([-1.0, 1.0]))
        return loss, y, _draw_raws(draw, n, bound, n_raw)
    y = in_domain(loss, _array(draw, n, reals(bound)))
    if is_log_link(name):  # raw predictions near log(y), or anywhere exp stays finite
        center = np.log(np.maximum(y, 1e-300))
        return loss, y, _draw_raws(draw, n, min(bound, LOG_BOUND), n_raw,
                                   center=np.clip(center, -LOG_BOUND, LOG_BOUND))
    return loss, y, _draw_raws(draw, n, bound, n_raw, center=y)


def _rows(a):
    """Per-sample sum over the classes (multinomial), or the array itself."""
    return a.sum(axis=1) if a.ndim == 2 else a


# -- non-negativity -------------------------------------------------------------------
@pytest.mark.parametrize("name", ALL)
@SETTINGS
@given(data=st.data())
def test_loss_is_finite_and_least_at_the_target(name, data):
    """Non-negative; under a log link (whose losses drop a term in y alone) at least
    the loss at the best raw prediction log(y), or 0 where y == 0."""
    loss, y, (raw,) = data.draw(cases(name))
    values = loss.loss(y, raw)
    assert values.shape == y.shape and values.dtype == np.float64
    assert np.all(np.isfinite(values)), (values, y, raw)
    least = np.zeros_like(values)
    if is_log_link(name):
        positive = y > 0
        least[positive] = loss.loss(y[positive], np.log(y[positive]))
    bad = values < least - 1e-12 * np.abs(least)
    assert not bad.any(), (loss, y[bad], raw[bad], values[bad])


# -- convexity in the raw prediction --------------------------------------------------
def check_convex_midpoint(loss, y, a, b):
    mid = (a + b) / 2
    la, lb, lm = loss.loss(y, a), loss.loss(y, b), loss.loss(y, mid)
    tol = 1e-9 * (1 + np.abs(la) + np.abs(lb) + np.abs(lm))
    bad = lm > (la + lb) / 2 + tol
    assert not bad.any(), (loss, y[bad], a[bad], b[bad], lm[bad], la[bad], lb[bad])


def check_subgradient(loss, y, a, b):
    """First-order convexity: loss(b) >= loss(a) + <gradient(a), b - a>."""
    la, ga = loss.loss_gradient(y, a)
    lb = loss.loss(y, b)
    step = ga * (b - a)
    tol = 1e-9 * (1 + np.abs(la) + np.abs(lb) + _rows(np.abs(step)))
    bad = lb < la + _rows(step) - tol
    assert not bad.any(), (loss, y[bad], a[bad], b[bad], la[bad], lb[bad], ga[bad])


@pytest.mark.parametrize("name", ALL)
@SETTINGS
@given(data=st.data())
def test_convex_midpoint(name, data):
    check_convex_midpoint(*_flatten(data.draw(cases(name, n_raw=2))))


@pytest.mark.parametrize("name", ALL)
@SETTINGS
@given(data=st.data())
def test_gradient_is_a_subgradient(name, data):
    check_subgradient(*_flatten(data.draw(cases(name, n_raw=2))))


def _flatten(case):
    loss, y, raws = case
    return (loss, y, *raws)


# Both sides of every kink: margins -1, 0, 1 and residuals +-epsilon.
_KINK_Y = np.array([1.0, -1.0] * 6)
_KINK_A = np.array([1.0, -1.0, 0.0, 0.0, -1.0, 1.0, 0.5, -0.5, -0.5, 0.5, -3.0, 3.0])
_KINK_B = np.array([1.5, -1.5, -0.5, 0.5, -1.5, 1.5, 1.5, -1.5, 0.5, -0.5, 0.0, 0.0])


@pytest.mark.parametrize("name", [name for name in SINGLE_OUTPUT if not is_log_link(name)])
def test_convexity_across_kinks(name):  # (the log-link losses are smooth)
    loss = make_loss(name, epsilon=0.75)
    y = _KINK_Y if name in BINARY else np.zeros_like(_KINK_A)
    a, b = (_KINK_A, _KINK_B) if name in BINARY else (_KINK_A * 0.75, _KINK_B * 0.75)
    for first, second in ((a, b), (b, a)):
        check_convex_midpoint(loss, y, first, second)
        check_subgradient(loss, y, first, second)


# -- sign of the derivative -----------------------------------------------------------
def check_binary_gradient_sign(loss, y, raw):
    gradient = loss.gradient(y, raw)
    bad = y * gradient > 0
    assert not bad.any(), (loss, y[bad], raw[bad], gradient[bad])


@pytest.mark.parametrize("name", BINARY)
@SETTINGS
@given(data=st.data())
def test_binary_gradient_never_rewards_a_lower_margin(name, data):
    """y * gradient <= 0: raising the margin never increases the loss."""
    check_binary_gradient_sign(*_flatten(data.draw(cases(name))))


@pytest.mark.parametrize("name", BINARY)
def test_binary_gradient_sign_at_kinks(name):
    check_binary_gradient_sign(get_loss(name), _KINK_Y, _KINK_A)


@pytest.mark.parametrize("name", REGRESSION)
@SETTINGS
@given(data=st.data())
def test_regression_gradient_points_away_from_target(name, data):
    """The derivative has the sign of prediction - y (the prediction: the raw one
    through the loss's link)."""
    loss, y, (raw,) = data.draw(cases(name))
    gradient = loss.gradient(y, raw)
    prediction = loss.link.inverse(raw)
    bad = gradient * (prediction - y) < 0
    assert not bad.any(), (loss, y[bad], raw[bad], gradient[bad])
    if name in ("quantile", "absolute_error"):
        # a kink at the target: there scikit-learn's subgradient, the left derivative
        assert np.all(gradient[raw == y] == loss.gradient(y[raw == y], y[raw == y] - 1))
    elif is_log_link(name):
        # exp(raw) == y: zero up to the rounding of y exp(-raw) and the like
        at = prediction == y
        assert np.all(np.abs(gradient[at]) <= 1e-15 * (1 + y[at]) ** 2)
    else:
        # zero residual, zero derivative (the loss is smooth at its minimum there)
        assert np.all(gradient[prediction == y] == 0)


@SETTINGS
@given(data=st.data())
def test_multinomial_gradient_rows(data):
    loss, y, (raw,) = data.draw(cases("multinomial_log_loss"))
    gradient = loss.gradient(y, raw)
    n, n_classes = raw.shape
    assert gradient.shape == (n, n_classes)
    np.testing.assert_array_less(np.abs(gradient.sum(axis=1)), 1e-12 * n_classes)
    is_y = np.arange(n_classes)[None, :] == y[:, None].astype(np.intp)
    assert np.all(gradient[is_y] <= 0) and np.all(gradient[is_y] >= -1)
    assert np.all(gradient[~is_y] >= 0) and np.all(gradient[~is_y] <= 1)


# -- binary losses are non-increasing in the margin z = y * raw -----------------------
def check_nonincreasing_in_margin(loss, y, a, b):
    z_low, z_high = np.minimum(y * a, y * b), np.maximum(y * a, y * b)
    # raw = y * z exactly, as |y| = 1
    loss_low, loss_high = loss.loss(y, y * z_low), loss.loss(y, y * z_high)
    bad = loss_high > loss_low
    assert not bad.any(), (loss, y[bad], z_low[bad], z_high[bad], loss_low[bad],
                           loss_high[bad])


@pytest.mark.parametrize("name", BINARY)
@SETTINGS
@given(data=st.data())
def test_binary_loss_nonincreasing_in_margin(name, data):
    check_nonincreasing_in_margin(*_flatten(data.draw(cases(name, n_raw=2))))


@pytest.mark.parametrize("name", BINARY)
def test_binary_loss_nonincreasing_across_kinks(name):
    # margins around -1, 0, 1 and the cut-offs x = -37, -2, 18, 33.3 of a piecewise
    # log(1 + exp(x)), x = -z; each against its neighbours one ulp either side
    z = np.array([-1.0, 0.0, 1.0, 37.0, 2.0, -18.0, -33.3, -1.0 - 1e-12, 1.0 - 1e-12])
    z = np.concatenate([z, z])
    y = np.repeat([1.0, -1.0], z.size // 2)
    for direction in (np.inf, -np.inf):
        check_nonincreasing_in_margin(get_loss(name), y, y * z, y * np.nextafter(z, direction))


# -- one pass or two: same numbers ----------------------------------------------------
def check_loss_gradient(loss, y, raw):
    both_loss, both_gradient = loss.loss_gradient(y, raw)
    np.testing.assert_allclose(both_loss, loss.loss(y, raw), rtol=1e-12, atol=TINY)
    np.testing.assert_allclose(both_gradient, loss.gradient(y, raw), rtol=1e-12, atol=TINY)


@pytest.mark.parametrize("name", ALL)
@SETTINGS
@given(data=st.data())
def test_loss_gradient_matches_separate_calls(name, data):
    check_loss_gradient(*_flatten(data.draw(cases(name))))


def test_log_loss_gradient_matches_separate_calls_far_out():
    # both branches of a log-loss kernel, out to where exp(-z) is subnormal
    raw = np.array([720.0, 720.0, -30.0, 40.0, -18.5, 17.5, 33.0, -34.0, 700.0, -700.0])
    check_loss_gradient(get_loss("log_loss"), np.array([1.0, -1.0] * 5), raw)


# -- float32 against float64 on the same float32 inputs -------------------------------
@pytest.mark.parametrize("name", ALL)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_float32_matches_float64(name, data):
    bound = BOUND32_REGRESSION if name in REGRESSION else BOUND32_MARGIN
    loss, y, (raw,) = data.draw(cases(name, bound=bound))
    if name in EPSILON_LOSSES:
        # epsilon is an input too: rounded to float32 for both computations
        loss.set_params(epsilon=float(np.float32(loss.epsilon)))
    for parameter in ("quantile", "power"):  # (and so are these)
        if parameter in loss.get_params():
            loss.set_params(**{parameter: float(np.float32(getattr(loss, parameter)))})
    y32, raw32 = y.astype(np.float32), raw.astype(np.float32)
    y64, raw64 = y32.astype(np.float64), raw32.astype(np.float64)
    loss32, gradient32 = loss.loss_gradient(y32, raw32)
    loss64, gradient64 = loss.loss_gradient(y64, raw64)
    assert loss32.dtype == gradient32.dtype == np.float32
    assert loss64.dtype == gradient64.dtype == np.float64

    epsilon = loss.get_params().get("epsilon", 0.0)
    abs_raw = np.abs(raw64) if raw64.ndim == 1 else np.abs(raw64).max(axis=1)
    scale = 1 + np.maximum(np.maximum(np.abs(y64), abs_raw), epsilon)
    bad = np.abs(loss32 - loss64) > 2e-5 * np.abs(loss64) + 1e-6 * scale
    assert not bad.any(), (loss, y32[bad], raw32[bad], loss32[bad], loss64[bad])

    comparable = np.ones(gradient64.shape, dtype=bool)
    if name == "epsilon_insensitive":
        # Its derivative jumps at |y - raw| = epsilon and the float32 residual is
        # rounded (relative error <= 2^-24): that close to the jump either side is
        # right, so the value there must be 0 or sign(raw - y).
        residual = raw64 - y64
        comparable = np.abs(np.abs(residual) - epsilon) > 2.0 ** -22 * np.abs(residual)
        at_jump = ~comparable
        assert np.all((gradient32[at_jump] == 0)
                      | (gradient32[at_jump] == np.sign(residual[at_jump])))
    grad_scale = scale if raw64.ndim == 1 else scale[:, None]
    bad = comparable & (np.abs(gradient32 - gradient64)
                        > 2e-5 * np.abs(gradient64) + 1e-6 * grad_scale)
    assert not bad.any(), (loss, y32, raw32, gradient32[bad], gradient64[bad])


# -- threads: bit-identical results ---------------------------------------------------
@st.composite
def large_cases(draw, name):
    """A few thousand to a few ten thousand samples (several of the kernels' chunks),
    from a drawn seed; float32 or float64, with or without sample weights."""
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    n = draw(st.integers(2000, 40000))
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    if name == "multinomial_log_loss":
        n_classes = draw(st.integers(2, 6))
        loss = MultinomialLogLoss()
        y = rng.integers(0, n_classes, size=n).astype(dtype)
        raw = (rng.standard_normal((n, n_classes)) * 10).astype(dtype)
    else:
        loss = make_loss(name, draw(epsilons), draw(quantiles))
        if name in BINARY:
            y = rng.choice(np.array([-1.0, 1.0]), size=n).astype(dtype)
            raw = (rng.standard_normal(n) * 3).astype(dtype)
        else:
            y = in_domain(loss, rng.standard_normal(n) * 10).astype(dtype)
            raw = (rng.standard_normal(n) * 10).astype(dtype)
    weights = rng.uniform(0, 3, size=n).astype(dtype) if draw(st.booleans()) else None
    return loss, y, raw, weights


@pytest.mark.parametrize("name", ALL)
@settings(max_examples=6, deadline=None)
@given(data=st.data())
def test_two_threads_bit_identical_to_one(name, data):
    loss, y, raw, weights = data.draw(large_cases(name))
    one_loss, one_gradient = loss.loss_gradient(y, raw, weights, n_threads=1)
    two_loss, two_gradient = loss.loss_gradient(y, raw, weights, n_threads=2)
    np.testing.assert_array_equal(two_loss, one_loss)
    np.testing.assert_array_equal(two_gradient, one_gradient)
    # Each entry point against itself (loss_gradient may compute the derivative by
    # another formula than gradient, e.g. log_loss: equal to a few ulps, not bitwise).
    np.testing.assert_array_equal(loss.loss(y, raw, weights, n_threads=2),
                                  loss.loss(y, raw, weights, n_threads=1))
    np.testing.assert_array_equal(loss.gradient(y, raw, weights, n_threads=2),
                                  loss.gradient(y, raw, weights, n_threads=1))
    assert loss(y, raw, weights, n_threads=2) == loss(y, raw, weights, n_threads=1)
