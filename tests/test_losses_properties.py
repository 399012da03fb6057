"""Property tests of the public loss objects (hypothesis).

Every property is a mathematical fact about the losses (non-negativity, convexity,
the sign of the derivative, monotonicity in the margin, agreement between entry
points, precisions and thread counts), checked on generated inputs; nothing here is
derived from the kernels' code.
"""
import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from sklloss.losses import MultinomialLogLoss, get_loss

REGRESSION = ("squared_error", "huber", "epsilon_insensitive", "squared_epsilon_insensitive")
EPSILON_LOSSES = ("huber", "epsilon_insensitive", "squared_epsilon_insensitive")
BINARY = ("log_loss", "hinge", "perceptron", "squared_hinge", "modified_huber")
SINGLE_OUTPUT = REGRESSION + BINARY

BOUND = 1e6  # |raw|, |y| for float64 properties
BOUND32_REGRESSION = 1e3  # modest ranges for the float32 comparison
BOUND32_MARGIN = 50.0
MAX_N = 16
TINY = np.finfo(np.float64).tiny  # below it (subnormals) no relative accuracy exists

SETTINGS = settings(max_examples=60, deadline=None)


def make_loss(name, epsilon):
    return get_loss(name, epsilon=epsilon) if name in EPSILON_LOSSES else get_loss(name)


def finite(bound):
    return st.floats(-bound, bound, allow_nan=False, allow_infinity=False)


epsilons = st.floats(0.0, 10.0, allow_nan=False, allow_infinity=False)


@st.composite
def single_output_cases(draw, names=SINGLE_OUTPUT, bound=BOUND, n_raw=1):
    """(loss, y, [raw_1, .., raw_n_raw]) for a single-output loss, float64."""
    name = draw(st.sampled_from(names))
    loss = make_loss(name, draw(epsilons))
    n = draw(st.integers(1, MAX_N))
    if name in BINARY:
        y = draw(hnp.arrays(np.float64, n, elements=st.sampled_from([-1.0, 1.0])))
    else:
        y = draw(hnp.arrays(np.float64, n, elements=finite(bound)))
    raws = [draw(hnp.arrays(np.float64, n, elements=finite(bound))) for _ in range(n_raw)]
    return loss, y, raws


@st.composite
def multinomial_cases(draw, bound=BOUND, n_raw=1):
    """(loss, y, [raw_1, ..]) for MultinomialLogLoss: K in 2..6, classes 0..K-1."""
    n_classes = draw(st.integers(2, 6))
    n = draw(st.integers(1, MAX_N))
    y = draw(hnp.arrays(np.float64, n, elements=st.integers(0, n_classes - 1).map(float)))
    raws = [draw(hnp.arrays(np.float64, (n, n_classes), elements=finite(bound)))
            for _ in range(n_raw)]
    return MultinomialLogLoss(), y, raws


def all_cases(**kwargs):
    return st.one_of(single_output_cases(**kwargs), multinomial_cases(**kwargs))


def _rows(a):
    """Per-sample sum over classes (multinomial) or the array itself."""
    return a.sum(axis=1) if a.ndim == 2 else a


# -- non-negativity -------------------------------------------------------------------
@SETTINGS
@given(case=all_cases())
def test_loss_is_nonnegative_and_finite(case):
    loss, y, (raw,) = case
    values = loss.loss(y, raw)
    assert values.shape == y.shape and values.dtype == np.float64
    assert np.all(np.isfinite(values)), (values, y, raw)
    assert np.all(values >= 0), (loss, y[values < 0], raw[values < 0], values[values < 0])


# -- convexity in the raw prediction --------------------------------------------------
@SETTINGS
@given(case=all_cases(n_raw=2))
@example(case=(get_loss("hinge"), np.array([1.0, -1.0]), [np.array([0.0, 2.0]),
                                                          np.array([2.0, -3.0])]))
def test_convex_midpoint(case):
    loss, y, (a, b) = case
    mid = (a + b) / 2
    la, lb, lm = loss.loss(y, a), loss.loss(y, b), loss.loss(y, mid)
    tol = 1e-9 * (1 + np.abs(la) + np.abs(lb) + np.abs(lm))
    bad = lm > (la + lb) / 2 + tol
    assert not bad.any(), (loss, y[bad], a[bad], b[bad], lm[bad], la[bad], lb[bad])


@SETTINGS
@given(case=all_cases(n_raw=2))
def test_gradient_is_a_subgradient(case):
    """First-order convexity: loss(b) >= loss(a) + <gradient(a), b - a>."""
    loss, y, (a, b) = case
    la, ga = loss.loss_gradient(y, a)
    lb = loss.loss(y, b)
    linear = _rows(ga * (b - a))
    tol = 1e-9 * (1 + np.abs(la) + np.abs(lb) + _rows(np.abs(ga * (b - a))))
    bad = lb < la + linear - tol
    assert not bad.any(), (loss, y[bad], a[bad], b[bad], la[bad], lb[bad], ga[bad])


# -- sign of the derivative -----------------------------------------------------------
@SETTINGS
@given(case=single_output_cases(names=BINARY))
@example(case=(get_loss("hinge"), np.array([1.0, -1.0]), [np.array([1.0, -1.0])]))
@example(case=(get_loss("perceptron"), np.array([1.0, -1.0]), [np.array([0.0, 0.0])]))
def test_binary_gradient_never_rewards_a_lower_margin(case):
    loss, y, (raw,) = case
    gradient = loss.gradient(y, raw)
    bad = y * gradient > 0
    assert not bad.any(), (loss, y[bad], raw[bad], gradient[bad])


@SETTINGS
@given(case=single_output_cases(names=REGRESSION))
def test_regression_gradient_points_away_from_target(case):
    loss, y, (raw,) = case
    gradient = loss.gradient(y, raw)
    bad = gradient * (raw - y) < 0
    assert not bad.any(), (loss, y[bad], raw[bad], gradient[bad])
    # Zero residual, zero derivative (every regression loss has its minimum there).
    assert np.all(gradient[raw == y] == 0)


@SETTINGS
@given(case=multinomial_cases())
def test_multinomial_gradient_rows(case):
    loss, y, (raw,) = case
    gradient = loss.gradient(y, raw)
    n, n_classes = raw.shape
    assert gradient.shape == (n, n_classes)
    np.testing.assert_array_less(np.abs(gradient.sum(axis=1)), 1e-12 * n_classes + 1e-300)
    is_y = np.arange(n_classes)[None, :] == y[:, None].astype(np.intp)
    assert np.all(gradient[is_y] <= 0) and np.all(gradient[is_y] >= -1)
    assert np.all(gradient[~is_y] >= 0) and np.all(gradient[~is_y] <= 1)


# -- binary losses are non-increasing in the margin z = y * raw -----------------------
@SETTINGS
@given(case=single_output_cases(names=BINARY, n_raw=2))
@example(case=(get_loss("log_loss"), np.ones(8),
               [np.array([-37.0, -2.0, 18.0, 33.3, -37.0, -2.0, 18.0, 33.3]),
                np.nextafter(np.array([-37.0, -2.0, 18.0, 33.3, -37.0, -2.0, 18.0, 33.3]),
                             np.array([np.inf] * 4 + [-np.inf] * 4))]))
def test_binary_loss_nonincreasing_in_margin(case):
    loss, y, (a, b) = case
    z_low, z_high = np.minimum(y * a, y * b), np.maximum(y * a, y * b)
    # raw = y * z exactly, as |y| = 1
    loss_low, loss_high = loss.loss(y, y * z_low), loss.loss(y, y * z_high)
    bad = loss_high > loss_low
    assert not bad.any(), (loss, y[bad], z_low[bad], z_high[bad], loss_low[bad],
                           loss_high[bad])


# -- one pass or two: same numbers ----------------------------------------------------
@SETTINGS
@given(case=all_cases())
@example(case=(get_loss("log_loss"), np.array([1.0, -1.0, 1.0, 1.0]),
               [np.array([720.0, 720.0, -30.0, 40.0])]))
def test_loss_gradient_matches_separate_calls(case):
    loss, y, (raw,) = case
    both_loss, both_gradient = loss.loss_gradient(y, raw)
    np.testing.assert_allclose(both_loss, loss.loss(y, raw), rtol=1e-12, atol=TINY)
    np.testing.assert_allclose(both_gradient, loss.gradient(y, raw), rtol=1e-12, atol=TINY)


# -- float32 against float64 on the same float32 inputs -------------------------------
@st.composite
def float32_cases(draw):
    kind = draw(st.sampled_from(["regression", "binary", "multinomial"]))
    if kind == "regression":
        case = draw(single_output_cases(names=REGRESSION, bound=BOUND32_REGRESSION))
    elif kind == "binary":
        case = draw(single_output_cases(names=BINARY, bound=BOUND32_MARGIN))
    else:
        case = draw(multinomial_cases(bound=BOUND32_MARGIN))
    loss, y, (raw,) = case
    if "epsilon" in loss.get_params():
        # epsilon is an input too: round it to float32 for both computations
        loss = loss.set_params(epsilon=float(np.float32(loss.epsilon)))
    return loss, y.astype(np.float32), raw.astype(np.float32)


@settings(max_examples=150, deadline=None)
@given(case=float32_cases())
def test_float32_matches_float64(case):
    loss, y32, raw32 = case
    y64, raw64 = y32.astype(np.float64), raw32.astype(np.float64)
    loss32, gradient32 = loss.loss_gradient(y32, raw32)
    loss64, gradient64 = loss.loss_gradient(y64, raw64)
    assert loss32.dtype == gradient32.dtype == np.float32
    assert loss64.dtype == gradient64.dtype == np.float64
    epsilon = loss.get_params().get("epsilon", 0.0)
    abs_raw = np.abs(raw64) if raw64.ndim == 1 else np.abs(raw64).max(axis=1)
    scale = 1 + np.maximum(np.maximum(np.abs(y64), abs_raw), epsilon)
    grad_scale = scale if raw64.ndim == 1 else scale[:, None]

    bad = np.abs(loss32 - loss64) > 2e-5 * np.abs(loss64) + 1e-6 * scale
    assert not bad.any(), (loss, y32[bad], raw32[bad], loss32[bad], loss64[bad])

    comparable = np.ones(gradient64.shape, dtype=bool)
    if loss.name == "epsilon_insensitive":
        # Its derivative jumps at |y - raw| = epsilon; the float32 residual is rounded
        # (relative error <= 2^-24), so where |y - raw| is that close to epsilon either
        # side of the jump is right: the value must be 0 or sign(raw - y).
        residual = raw64 - y64
        comparable = np.abs(np.abs(residual) - epsilon) > 2.0 ** -22 * np.abs(residual)
        at_jump = ~comparable
        assert np.all((gradient32[at_jump] == 0)
                      | (gradient32[at_jump] == np.sign(residual[at_jump])))
    bad = comparable & (np.abs(gradient32 - gradient64)
                        > 2e-5 * np.abs(gradient64) + 1e-6 * grad_scale)
    assert not bad.any(), (loss, gradient32[bad], gradient64[bad])


# -- threads: bit-identical results ---------------------------------------------------
@st.composite
def large_cases(draw):
    """Arrays of a few thousand to a few ten thousand samples, from a drawn seed."""
    name = draw(st.sampled_from(SINGLE_OUTPUT + ("multinomial",)))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    weighted = draw(st.booleans())
    n = draw(st.integers(2000, 40000))
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    if name == "multinomial":
        n_classes = draw(st.integers(2, 6))
        loss = MultinomialLogLoss()
        y = rng.integers(0, n_classes, size=n).astype(dtype)
        raw = (rng.standard_normal((n, n_classes)) * 10).astype(dtype)
    else:
        loss = make_loss(name, draw(epsilons))
        if name in BINARY:
            y = rng.choice(np.array([-1.0, 1.0]), size=n).astype(dtype)
        else:
            y = (rng.standard_normal(n) * 100).astype(dtype)
        raw = (rng.standard_normal(n) * 100).astype(dtype)
    weights = rng.uniform(0, 3, size=n).astype(dtype) if weighted else None
    return loss, y, raw, weights


@settings(max_examples=40, deadline=None)
@given(case=large_cases())
def test_two_threads_bit_identical_to_one(case):
    loss, y, raw, weights = case
    one_loss, one_gradient = loss.loss_gradient(y, raw, weights, n_threads=1)
    two_loss, two_gradient = loss.loss_gradient(y, raw, weights, n_threads=2)
    np.testing.assert_array_equal(two_loss, one_loss)
    np.testing.assert_array_equal(two_gradient, one_gradient)
    # Each entry point against itself (loss_gradient may use another formula for the
    # derivative than gradient, e.g. log_loss: equal to a few ulps, not bit for bit).
    np.testing.assert_array_equal(loss.loss(y, raw, weights, n_threads=2),
                                  loss.loss(y, raw, weights, n_threads=1))
    np.testing.assert_array_equal(loss.gradient(y, raw, weights, n_threads=2),
                                  loss.gradient(y, raw, weights, n_threads=1))
    assert loss(y, raw, weights, n_threads=2) == loss(y, raw, weights, n_threads=1)
