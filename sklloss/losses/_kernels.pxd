# Scalar loss kernels: the ONE definition of every loss and of its derivative.
#
# Everything else is built on these functions: the vectorised loops of
# sklloss/losses/_kernels.pyx, and the SGD engine. They are `inline`, `noexcept` and
# `nogil`, fused over float32/float64, and can be cimported from other Cython code:
#
#     from sklloss.losses._kernels cimport loss_hinge, grad_hinge
#
# Names: loss_<name> is a loss, grad_<name> its derivative, loss_grad_<name> both (it
# returns the loss and stores the derivative), <name> being the loss's name in
# sklloss.losses (LOSSES); the type of a loss in fused code is its class's name.
#
# Conventions (those of scikit-learn's SGD, so that equal hyperparameters give equal
# learning dynamics):
# - `raw` is the raw prediction p = <w, x> + b; derivatives are d loss / d raw.
# - Regression kernels take a real target y.
# - Binary (margin) kernels take y in {-1, +1} and depend on the margin z = y * raw.
#   Mapping {0, 1} labels to {-1, +1} is the caller's job.
# - At a kink the derivative is scikit-learn's choice of subgradient (e.g. hinge: -y
#   at z == 1), so that SGD follows the same path.
#
# Precision: every kernel computes in the input type (float32 stays float32: half the
# bytes and twice the SIMD lanes; mixing in double stops GCC from vectorising the
# loops). An intermediate overflows only where the exact result is itself beyond the
# type's range, with one exception: the residual y - raw of the regression losses
# overflows when |y - raw| exceeds the type's maximum (3.4e38 in float32), even where
# huber's or epsilon_insensitive's linear loss would still be representable.
#
# The kernels do not check their input: with a NaN raw prediction some return NaN,
# some a finite value. The array functions of sklloss.losses reject NaN (and bad
# labels) before anyone sees a result.

from cython cimport floating
from libc.math cimport INFINITY, NAN, exp, expf, fabs, fabsf, log, log1p, log1pf, logf


# ---------------------------------------------------------------------------
# The description of a loss that compiled code receives: its kernel code and its
# parameter record. sklloss.losses' loss classes declare both (`kernel`,
# `kernel_params()`); the one code -> kernel switch is _switch.pxi.
# ---------------------------------------------------------------------------

# Every loss's parameters, in one fixed record (a loss reads the fields it has).
ctypedef struct LossParams:
    double epsilon      # huber, epsilon_insensitive, squared_epsilon_insensitive
    double quantile     # quantile
    double power        # tweedie

# One code per loss; Python sees them as sklloss.losses._kernels.LossCode.
cpdef enum LossCode:
    SQUARED_ERROR = 0
    HUBER = 1
    EPSILON_INSENSITIVE = 2
    SQUARED_EPSILON_INSENSITIVE = 3
    LOG_LOSS = 4
    HINGE = 5
    PERCEPTRON = 6
    SQUARED_HINGE = 7
    MODIFIED_HUBER = 8
    MULTINOMIAL_LOG_LOSS = 9
    POISSON = 10
    GAMMA = 11
    TWEEDIE = 12
    QUANTILE = 13
    ABSOLUTE_ERROR = 14

# What the switch returns for a code it does not know (a caller raises).
cdef enum:
    UNKNOWN_LOSS = -1

# One type per loss, holding its parameter record: a loop fused over `loss_t` is
# compiled once per loss, so the per-sample kernel call is inlined, not virtual.
ctypedef struct SquaredError:
    LossParams params
ctypedef struct Huber:
    LossParams params
ctypedef struct EpsilonInsensitive:
    LossParams params
ctypedef struct SquaredEpsilonInsensitive:
    LossParams params
ctypedef struct LogLoss:
    LossParams params
ctypedef struct Hinge:
    LossParams params
ctypedef struct Perceptron:
    LossParams params
ctypedef struct SquaredHinge:
    LossParams params
ctypedef struct ModifiedHuber:
    LossParams params
ctypedef struct MultinomialLogLoss:  # K outputs: see loss_grad_multinomial_log_loss
    LossParams params
ctypedef struct Poisson:
    LossParams params
ctypedef struct Gamma:
    LossParams params
ctypedef struct Tweedie:
    LossParams params
ctypedef struct Quantile:
    LossParams params
ctypedef struct AbsoluteError:
    LossParams params

ctypedef fused loss_t:
    SquaredError
    Huber
    EpsilonInsensitive
    SquaredEpsilonInsensitive
    LogLoss
    Hinge
    Perceptron
    SquaredHinge
    ModifiedHuber
    MultinomialLogLoss
    Poisson
    Gamma
    Tweedie
    Quantile
    AbsoluteError


# ---------------------------------------------------------------------------
# Elementary functions in the input precision.
# ---------------------------------------------------------------------------

# float32 exp without a libm call, in arithmetic GCC can vectorise (a call to libm's
# expf stops the vectoriser; its SIMD versions are used only under -ffast-math).
# Cody-Waite reduction x = k ln2 + r, |r| <= ln2 / 2, with ln2 split in a head with
# trailing zero bits (k * LN2_HI is exact) and a tail, as in fdlibm's e_exp.c; exp(r)
# by its Taylor polynomial of degree 7 (truncation below 2^-27); 2^k built from the
# exponent bits, as two factors so that subnormal results and overflow to +inf come
# out right. Accurate to about 1 ulp (tested against numpy over the whole range);
# NaN in, NaN out. With four SSE2 lanes it made the float32 log-loss gradient 1.7x
# scikit-learn's (which calls expf per element); in double (two lanes, degree 13) the
# same scheme measured no faster than glibc's table-driven exp, so double keeps libm.
cdef extern from *:
    """
    #include <stdint.h>
    #include <string.h>
    /* t = k + 0x1.8p23 (|k| < 2^22): returns 2^k for -126 <= k <= 127. */
    static inline float sklloss_pow2f_shifted(float t) {
        uint32_t bits;
        memcpy(&bits, &t, sizeof bits);
        bits = (bits - 0x4B400000U + 127U) << 23;
        memcpy(&t, &bits, sizeof t);
        return t;
    }
    """
    float _pow2f_shifted "sklloss_pow2f_shifted"(float t) noexcept nogil


cdef inline float _exp_float(float x) noexcept nogil:
    cdef float shift = 12582912.0  # 0x1.8p23
    cdef float k, r, p, half_k
    x = <float>-104.0 if x < -104.0 else (<float>89.0 if x > 89.0 else x)
    k = (x * <float>1.44269504 + shift) - shift
    r = (x - k * <float>0.693145751953125) - k * <float>1.428606765330187045e-06
    p = <float>(1.0 / 5040.0)
    p = p * r + <float>(1.0 / 720.0)
    p = p * r + <float>(1.0 / 120.0)
    p = p * r + <float>(1.0 / 24.0)
    p = p * r + <float>(1.0 / 6.0)
    p = p * r + <float>0.5
    p = p * r + 1
    p = p * r + 1
    half_k = (k * <float>0.5 + shift) - shift
    return p * _pow2f_shifted(half_k + shift) * _pow2f_shifted((k - half_k) + shift)


# exp for loops that can vectorise: the polynomial in float32, libm in double.
cdef inline floating _exp(floating x) noexcept nogil:
    if floating is float:
        return _exp_float(x)
    else:
        return exp(x)


# exp for loops that a libm call (log, log1p) keeps scalar anyway, where libm's
# table-driven exp is the faster one.
cdef inline floating _exp_libm(floating x) noexcept nogil:
    if floating is float:
        return expf(x)
    else:
        return exp(x)


# libc's fabs takes and returns double: in a float32 kernel it would turn the
# arithmetic around it into double (and pick double specialisations downstream).
cdef inline floating _fabs(floating x) noexcept nogil:
    if floating is float:
        return fabsf(x)
    else:
        return fabs(x)


cdef inline floating _log(floating x) noexcept nogil:
    if floating is float:
        return logf(x)
    else:
        return log(x)


cdef inline floating _log1p(floating x) noexcept nogil:
    if floating is float:
        return log1pf(x)
    else:
        return log1p(x)


# ---------------------------------------------------------------------------
# Regression losses: real target y. epsilon is rounded once to the input type.
# ---------------------------------------------------------------------------

# squared_error: 1/2 (y - raw)^2
cdef inline floating loss_squared_error(floating y, floating raw) noexcept nogil:
    cdef floating r = y - raw
    return <floating>0.5 * r * r


# d/draw: raw - y
cdef inline floating grad_squared_error(floating y, floating raw) noexcept nogil:
    return raw - y


# huber: 1/2 r^2 if |r| <= epsilon else epsilon |r| - 1/2 epsilon^2, with r = y - raw
# (written epsilon (|r| - epsilon / 2): no epsilon^2 to overflow)
cdef inline floating loss_huber(floating y, floating raw, double epsilon) noexcept nogil:
    cdef floating eps = <floating>epsilon
    cdef floating abs_r = _fabs(y - raw)
    if abs_r <= eps:
        return <floating>0.5 * abs_r * abs_r
    return eps * (abs_r - <floating>0.5 * eps)


# d/draw: raw - y clipped to [-epsilon, epsilon]
# (as two selects, min then max: each is one SSE instruction, NaN passing through both
# as it does through the nested select it replaces)
cdef inline floating grad_huber(floating y, floating raw, double epsilon) noexcept nogil:
    cdef floating eps = <floating>epsilon
    cdef floating r = raw - y
    r = eps if r > eps else r
    return -eps if r < -eps else r


# epsilon_insensitive: max(0, |y - raw| - epsilon)
cdef inline floating loss_epsilon_insensitive(floating y, floating raw,
                                              double epsilon) noexcept nogil:
    cdef floating excess = _fabs(y - raw) - <floating>epsilon
    return excess if excess > 0 else 0


# d/draw: -1 if y - raw > epsilon, +1 if raw - y > epsilon, else 0
cdef inline floating grad_epsilon_insensitive(floating y, floating raw,
                                              double epsilon) noexcept nogil:
    cdef floating eps = <floating>epsilon
    cdef floating r = y - raw
    return -1 if r > eps else (1 if r < -eps else 0)


# squared_epsilon_insensitive: max(0, |y - raw| - epsilon)^2
cdef inline floating loss_squared_epsilon_insensitive(floating y, floating raw,
                                                      double epsilon) noexcept nogil:
    cdef floating excess = _fabs(y - raw) - <floating>epsilon
    return excess * excess if excess > 0 else 0


# d/draw: -2 (r - epsilon) if r > epsilon, -2 (r + epsilon) if r < -epsilon, else 0,
# with r = y - raw
cdef inline floating grad_squared_epsilon_insensitive(floating y, floating raw,
                                                      double epsilon) noexcept nogil:
    cdef floating eps = <floating>epsilon
    cdef floating r = y - raw
    return -2 * (r - eps) if r > eps else (-2 * (r + eps) if r < -eps else 0)


# ---------------------------------------------------------------------------
# Regression losses with a log link: the raw prediction p is the log of the
# predicted mean exp(p). Each is half the unit deviance of its distribution, up to
# a term in y alone (scikit-learn's HalfPoissonLoss, HalfGammaLoss,
# HalfTweedieLoss: the same values). Their derivatives grow like exp(|p|): an
# overflow gives +-inf, never NaN, for every finite p (a case the direct formula
# would turn into inf - inf is given its limit, written out at each kernel).
# ---------------------------------------------------------------------------

# y * e where e = exp(...) may be inf: 0 for y == 0 (the limit of the loss term: y
# multiplies the exponential in the deviance), not 0 * inf = NaN
cdef inline floating _times(floating y, floating e) noexcept nogil:
    return 0 if y == 0 else y * e


# poisson: exp(p) - y p   (y >= 0), from e = exp(p). Where exp(p) overflows, +inf
# (y p might be +inf too: the loss's limit is +inf, as exp grows faster than any
# multiple of p)
cdef inline floating _poisson_of_exp(floating y, floating raw, floating e) noexcept nogil:
    return e - _times(y, raw) if e < INFINITY else e


cdef inline floating loss_poisson(floating y, floating raw) noexcept nogil:
    return _poisson_of_exp(y, raw, _exp(raw))


# d/draw: exp(p) - y
cdef inline floating grad_poisson(floating y, floating raw) noexcept nogil:
    return _exp(raw) - y


cdef inline floating loss_grad_poisson(floating y, floating raw,
                                       floating* gradient) noexcept nogil:
    cdef floating e = _exp(raw)
    gradient[0] = e - y
    return _poisson_of_exp(y, raw, e)


# gamma: p + y exp(-p)   (y > 0): no inf - inf (both terms grow to +inf together)
cdef inline floating loss_gamma(floating y, floating raw) noexcept nogil:
    return raw + _times(y, _exp(-raw))


# d/draw: 1 - y exp(-p)
cdef inline floating grad_gamma(floating y, floating raw) noexcept nogil:
    return 1 - _times(y, _exp(-raw))


cdef inline floating loss_grad_gamma(floating y, floating raw,
                                     floating* gradient) noexcept nogil:
    cdef floating ye = _times(y, _exp(-raw))
    gradient[0] = 1 - ye
    return raw + ye


# tweedie (power rho), as scikit-learn's HalfTweedieLoss:
#   rho = 0: 1/2 (exp(p) - y)^2;  rho = 1: poisson;  rho = 2: gamma;  otherwise
#   exp((2 - rho) p) / (2 - rho) - y exp((1 - rho) p) / (1 - rho).
# The two terms of the general form are both infinite (of one sign) only for rho < 0
# as p -> +inf and rho > 2 as p -> -inf; there the loss's limit is +inf (the term
# with the larger exponent wins: it is positive).
cdef inline floating loss_tweedie(floating y, floating raw, double power) noexcept nogil:
    cdef floating rho = <floating>power
    cdef floating e, value
    if power == 0:
        e = _exp(raw) - y
        return <floating>0.5 * e * e
    elif power == 1:
        return loss_poisson(y, raw)
    elif power == 2:
        return loss_gamma(y, raw)
    value = (_exp((2 - rho) * raw) / (2 - rho)
             - _times(y, _exp((1 - rho) * raw)) / (1 - rho))
    return value if value == value or raw != raw else <floating>INFINITY


# d/draw: rho = 0: exp(p) (exp(p) - y); otherwise exp((2 - rho) p) - y exp((1 - rho) p)
# (rho = 1, 2: those of poisson and gamma). Both terms infinite: the limit is that of
# the one with the larger exponent, +inf for p > 0, -inf for p < 0.
cdef inline floating grad_tweedie(floating y, floating raw, double power) noexcept nogil:
    cdef floating rho = <floating>power
    cdef floating e, value
    if power == 0:
        e = _exp(raw)
        return e * (e - y) if e < INFINITY else e
    elif power == 1:
        return grad_poisson(y, raw)
    elif power == 2:
        return grad_gamma(y, raw)
    value = _exp((2 - rho) * raw) - _times(y, _exp((1 - rho) * raw))
    if value == value or raw != raw:
        return value
    return <floating>INFINITY if raw > 0 else -<floating>INFINITY


# ---------------------------------------------------------------------------
# Quantile losses (identity link). At the kink y == p the derivative is
# scikit-learn's choice of subgradient, stated at each kernel.
# ---------------------------------------------------------------------------

# quantile (pinball, q in (0, 1)): q (y - p) if y >= p else (1 - q) (p - y)
cdef inline floating loss_quantile(floating y, floating raw, double quantile) noexcept nogil:
    cdef floating q = <floating>quantile
    return q * (y - raw) if y >= raw else (1 - q) * (raw - y)


# d/draw: -q if y >= p (the kink included) else 1 - q
cdef inline floating grad_quantile(floating y, floating raw, double quantile) noexcept nogil:
    cdef floating q = <floating>quantile
    return -q if y >= raw else 1 - q


# absolute_error: |y - p|
cdef inline floating loss_absolute_error(floating y, floating raw) noexcept nogil:
    return _fabs(raw - y)


# d/draw: +1 if p > y else -1 (the kink included)
cdef inline floating grad_absolute_error(floating y, floating raw) noexcept nogil:
    return 1 if raw > y else -1


# ---------------------------------------------------------------------------
# Binary (margin) losses: y in {-1, +1}, z = y * raw (exact: |y| = 1).
# ---------------------------------------------------------------------------

# log(1 + exp(x)) without overflow and accurate over the whole range, after
# M. Maechler (2012), "Accurately computing log(1 - exp(-|a|))", eq. (10), with its
# double-precision cut-offs (they stay correct, if conservative, in float32), and, as
# in scikit-learn's sklearn/_loss/_loss.pyx.tp, log(1 + e) instead of log1p(e) for
# x > -2: there e > 0.13, so 1 + e loses nothing that matters, and glibc's log is
# faster than its log1p (by about a quarter, measured here). Data mostly takes one
# branch, so it is mostly predicted, unlike a branch on the sign of the margin (a
# coin toss with random labels).
cdef inline floating _log1pexp_from_exp(floating x, floating e) noexcept nogil:
    # e = exp(x) for x <= 18, exp(-x) beyond: the one exp that log1pexp and
    # loss_grad_log_loss share (see _exp_arg_for_log1pexp)
    if x <= -37:
        return e  # log1p(e) == e to working precision
    elif x <= -2:
        return _log1p(e)
    elif x <= 18:
        return _log(1 + e)
    elif x <= <floating>33.3:
        return x + e  # log(1 + e^x) = x + log1p(e^-x), log1p(e^-x) == e^-x
    else:
        return x


# The argument of the one exp (not one call per branch: exp is pure under
# -fno-math-errno, and GCC may then evaluate both calls to if-convert the choice).
cdef inline floating _exp_arg_for_log1pexp(floating x) noexcept nogil:
    return x if x <= 18 else -x


cdef inline floating log1pexp(floating x) noexcept nogil:
    return _log1pexp_from_exp(x, _exp_libm(_exp_arg_for_log1pexp(x)))


# log_loss: log(1 + exp(-z))
cdef inline floating loss_log_loss(floating y, floating raw) noexcept nogil:
    return log1pexp(-y * raw)


# d/draw: -y expit(-z) = -y / (1 + exp(z)). Two forms, both with one exp, no
# overflow, and tiny (even subnormal) values kept for large z:
# - float32 (the loop vectorises with the polynomial exp): with e = exp(-|z|) <= 1,
#   -y e / (1 + e) for z >= 0, -y / (1 + e) for z < 0; the select costs a blend.
# - double (libm's exp keeps the scalar loop scalar, and there a select on the sign
#   of z becomes a branch that random labels mispredict): with e = exp(-z),
#   -y e / (1 + e), and -y below z = -37 (where e would overflow and expit(-z) == 1
#   anyway), a cut-off data rarely crosses.
# Written as the argument of its exp and the derivative from that exp, so that the
# array kernels can compute the exps of a block at once (see _kernels.pyx).
cdef inline floating _grad_log_loss_exp_arg(floating z) noexcept nogil:
    if floating is float:
        return -_fabs(z)
    else:
        return -z


cdef inline floating _grad_log_loss_from_exp(floating y, floating z,
                                             floating e) noexcept nogil:
    if floating is float:
        return -y * (e if z >= 0 else 1) / (1 + e)
    else:
        return -y if z <= -37 else -y * e / (1 + e)  # expit(37) == 1 to working precision


cdef inline floating grad_log_loss(floating y, floating raw) noexcept nogil:
    cdef floating z = y * raw
    return _grad_log_loss_from_exp(y, z, _exp(_grad_log_loss_exp_arg(z)))


# Loss and derivative of log_loss from e = exp(_exp_arg_for_log1pexp(x)), x = -z;
# returns the loss.
cdef inline floating _loss_grad_log_loss_from_exp(floating y, floating x, floating e,
                                                  floating* gradient) noexcept nogil:
    # -y expit(x): e = exp(x) up to x = 18, exp(-x) beyond
    gradient[0] = -y * e / (1 + e) if x <= 18 else -y / (1 + e)
    return _log1pexp_from_exp(x, e)


# Loss and derivative of log_loss from one exp; returns the loss.
cdef inline floating loss_grad_log_loss(floating y, floating raw,
                                        floating* gradient) noexcept nogil:
    cdef floating x = -y * raw  # the loss is log1pexp(x)
    return _loss_grad_log_loss_from_exp(y, x, _exp_libm(_exp_arg_for_log1pexp(x)),
                                        gradient)


# hinge: max(0, 1 - z)
cdef inline floating loss_hinge(floating y, floating raw) noexcept nogil:
    cdef floating slack = 1 - y * raw
    return slack if slack > 0 else 0


# d/draw: -y if z <= 1 else 0
cdef inline floating grad_hinge(floating y, floating raw) noexcept nogil:
    return -y if y * raw <= 1 else 0


# perceptron: max(0, -z)
cdef inline floating loss_perceptron(floating y, floating raw) noexcept nogil:
    cdef floating z = y * raw
    return -z if z < 0 else 0


# d/draw: -y if z <= 0 else 0
cdef inline floating grad_perceptron(floating y, floating raw) noexcept nogil:
    return -y if y * raw <= 0 else 0


# squared_hinge: max(0, 1 - z)^2
cdef inline floating loss_squared_hinge(floating y, floating raw) noexcept nogil:
    cdef floating slack = 1 - y * raw
    return slack * slack if slack > 0 else 0


# d/draw: -2 y (1 - z) if z < 1 else 0
cdef inline floating grad_squared_hinge(floating y, floating raw) noexcept nogil:
    cdef floating slack = 1 - y * raw
    return -2 * y * slack if slack > 0 else 0


# modified_huber: 0 if z >= 1, (1 - z)^2 if -1 <= z < 1, -4 z if z < -1
cdef inline floating loss_modified_huber(floating y, floating raw) noexcept nogil:
    cdef floating z = y * raw
    return 0 if z >= 1 else ((1 - z) * (1 - z) if z >= -1 else -4 * z)


# d/draw: 0 if z >= 1, -2 y (1 - z) if -1 <= z < 1, -4 y if z < -1
cdef inline floating grad_modified_huber(floating y, floating raw) noexcept nogil:
    cdef floating z = y * raw
    return 0 if z >= 1 else (-2 * y * (1 - z) if z >= -1 else -4 * y)


# ---------------------------------------------------------------------------
# Multinomial (categorical cross-entropy) over K raw predictions, class y in 0..K-1:
#   loss = log(sum_k exp(raw_k)) - raw_y
#   d loss / d raw_k = softmax(raw)_k - [k == y]
# Computed with m = max_k raw_k subtracted (log-sum-exp): every exp argument is <= 0,
# so nothing overflows. The max's own term, exp(0) = 1, is kept out of the sum:
#   loss = log1p(rest) + (m - raw_y),  rest = sum_{k != argmax} exp(raw_k - m),
# so a tiny loss (y the clear winner: m = raw_y, rest << 1) keeps its relative
# precision, which log(1 + rest) would lose.
# ---------------------------------------------------------------------------

# m = max_k raw_k, and its index (the first, on ties).
cdef inline floating _max_of_row(const floating* raw, Py_ssize_t n_classes,
                                 Py_ssize_t* argmax_out) noexcept nogil:
    cdef Py_ssize_t k
    cdef Py_ssize_t argmax = 0
    cdef floating m = raw[0]
    for k in range(1, n_classes):
        if raw[k] > m:
            m = raw[k]
            argmax = k
    argmax_out[0] = argmax
    return m


# rest = the sum of the terms exp(raw_k - m) but the argmax's, in the order of k.
cdef inline floating _rest_of_terms(const floating* terms, Py_ssize_t n_classes,
                                    Py_ssize_t argmax) noexcept nogil:
    cdef Py_ssize_t k
    cdef floating rest = 0
    for k in range(n_classes):
        if k != argmax:
            rest = rest + terms[k]
    return rest


# The loss of a row of class y, log(sum_k exp(raw_k)) - raw_y, from m = max_k raw_k
# and rest (see _sum_exp_minus_max).
cdef inline floating _multinomial_loss_of(floating rest, floating m,
                                          floating raw_y) noexcept nogil:
    return _log1p_of_sum(rest) + (m - raw_y)


# Returns rest and stores m and its index; when `exps` is not NULL, the terms
# exp(raw_k - m) (1 for the argmax) are stored there (it may be `raw` itself).
cdef inline floating _sum_exp_minus_max(const floating* raw, Py_ssize_t n_classes,
                                        floating* max_out, Py_ssize_t* argmax_out,
                                        floating* exps) noexcept nogil:
    cdef Py_ssize_t k
    cdef Py_ssize_t argmax
    cdef floating m = _max_of_row(raw, n_classes, &argmax)
    cdef floating rest = 0
    cdef floating term
    for k in range(n_classes):
        term = _exp_libm(raw[k] - m)  # a scalar loop: see _exp_libm
        if k != argmax:
            rest = rest + term
        if exps != NULL:
            exps[k] = term
    max_out[0] = m
    argmax_out[0] = argmax
    return rest


# log1p(rest), by glibc's (faster) log where 1 + rest loses nothing that matters:
# for rest >= 1/8 the rounding of 1 + rest costs at most 1.1e-16 / log(1.125), about
# 1e-15, relative.
cdef inline floating _log1p_of_sum(floating rest) noexcept nogil:
    return _log(1 + rest) if rest >= <floating>0.125 else _log1p(rest)


cdef inline floating loss_multinomial_log_loss(const floating* raw, Py_ssize_t n_classes,
                                               Py_ssize_t y) noexcept nogil:
    cdef floating m
    cdef Py_ssize_t argmax
    cdef floating rest = _sum_exp_minus_max(raw, n_classes, &m, &argmax, NULL)
    return _multinomial_loss_of(rest, m, raw[y])


# The K derivatives from the terms exp(raw_k - m), already in `gradient`, and rest.
cdef inline void _multinomial_gradient_from_terms(floating* gradient, Py_ssize_t n_classes,
                                                  Py_ssize_t y, Py_ssize_t argmax,
                                                  floating rest) noexcept nogil:
    cdef Py_ssize_t k
    cdef floating inv_total = 1 / (1 + rest)
    for k in range(n_classes):
        gradient[k] = gradient[k] * inv_total
    if y == argmax:
        # softmax_y - 1 = 1 / (1 + rest) - 1 = -rest / (1 + rest), without the
        # cancellation of subtracting 1 from a probability close to 1
        gradient[y] = -rest * inv_total
    else:
        gradient[y] = gradient[y] - 1  # softmax_y <= 1/2 here: no cancellation


# Stores the K derivatives in `gradient` (which may alias `raw`) and returns the loss.
cdef inline floating loss_grad_multinomial_log_loss(const floating* raw,
                                                    Py_ssize_t n_classes, Py_ssize_t y,
                                                    floating* gradient) noexcept nogil:
    cdef Py_ssize_t argmax
    cdef floating m
    cdef floating raw_y = raw[y]  # read before `gradient` may overwrite it
    cdef floating rest = _sum_exp_minus_max(raw, n_classes, &m, &argmax, gradient)
    _multinomial_gradient_from_terms(gradient, n_classes, y, argmax, rest)
    return _multinomial_loss_of(rest, m, raw_y)


# ---------------------------------------------------------------------------
# The element-wise losses by type, resolved at compile time in a loop fused over
# `loss_t`. Naming, here and in every kernel above: loss_* is the loss, grad_* its
# derivative with respect to raw, loss_grad_* both (returns the loss, stores the
# derivative). A type these do not know gets NaN: never another loss's value. (The
# multinomial loss takes K raw predictions: its kernels are called by name.)
# ---------------------------------------------------------------------------

# True for the binary losses, whose kernels take y in {-1, +1}.
cdef inline bint is_margin_loss(loss_t loss) noexcept nogil:
    return (loss_t is LogLoss or loss_t is Hinge or loss_t is Perceptron
            or loss_t is SquaredHinge or loss_t is ModifiedHuber)


# True for the losses whose prediction is exp(raw): their steps are bounded by the
# engine (see sklloss/linear_model/_steps.pxd).
cdef inline bint is_log_link_loss(loss_t loss) noexcept nogil:
    return loss_t is Poisson or loss_t is Gamma or loss_t is Tweedie


cdef inline floating loss_of(loss_t loss, floating y, floating raw) noexcept nogil:
    if loss_t is SquaredError:
        return loss_squared_error(y, raw)
    elif loss_t is Huber:
        return loss_huber(y, raw, loss.params.epsilon)
    elif loss_t is EpsilonInsensitive:
        return loss_epsilon_insensitive(y, raw, loss.params.epsilon)
    elif loss_t is SquaredEpsilonInsensitive:
        return loss_squared_epsilon_insensitive(y, raw, loss.params.epsilon)
    elif loss_t is LogLoss:
        return loss_log_loss(y, raw)
    elif loss_t is Hinge:
        return loss_hinge(y, raw)
    elif loss_t is Perceptron:
        return loss_perceptron(y, raw)
    elif loss_t is SquaredHinge:
        return loss_squared_hinge(y, raw)
    elif loss_t is ModifiedHuber:
        return loss_modified_huber(y, raw)
    elif loss_t is Poisson:
        return loss_poisson(y, raw)
    elif loss_t is Gamma:
        return loss_gamma(y, raw)
    elif loss_t is Tweedie:
        return loss_tweedie(y, raw, loss.params.power)
    elif loss_t is Quantile:
        return loss_quantile(y, raw, loss.params.quantile)
    elif loss_t is AbsoluteError:
        return loss_absolute_error(y, raw)
    else:
        return NAN


cdef inline floating grad_of(loss_t loss, floating y, floating raw) noexcept nogil:
    if loss_t is SquaredError:
        return grad_squared_error(y, raw)
    elif loss_t is Huber:
        return grad_huber(y, raw, loss.params.epsilon)
    elif loss_t is EpsilonInsensitive:
        return grad_epsilon_insensitive(y, raw, loss.params.epsilon)
    elif loss_t is SquaredEpsilonInsensitive:
        return grad_squared_epsilon_insensitive(y, raw, loss.params.epsilon)
    elif loss_t is LogLoss:
        return grad_log_loss(y, raw)
    elif loss_t is Hinge:
        return grad_hinge(y, raw)
    elif loss_t is Perceptron:
        return grad_perceptron(y, raw)
    elif loss_t is SquaredHinge:
        return grad_squared_hinge(y, raw)
    elif loss_t is ModifiedHuber:
        return grad_modified_huber(y, raw)
    elif loss_t is Poisson:
        return grad_poisson(y, raw)
    elif loss_t is Gamma:
        return grad_gamma(y, raw)
    elif loss_t is Tweedie:
        return grad_tweedie(y, raw, loss.params.power)
    elif loss_t is Quantile:
        return grad_quantile(y, raw, loss.params.quantile)
    elif loss_t is AbsoluteError:
        return grad_absolute_error(y, raw)
    else:
        return NAN


cdef inline floating loss_grad_of(loss_t loss, floating y, floating raw,
                                  floating* gradient) noexcept nogil:
    if loss_t is LogLoss:
        return loss_grad_log_loss(y, raw, gradient)  # (one exp for both)
    elif loss_t is Poisson:
        return loss_grad_poisson(y, raw, gradient)
    elif loss_t is Gamma:
        return loss_grad_gamma(y, raw, gradient)
    else:
        gradient[0] = grad_of(loss, y, raw)
        return loss_of(loss, y, raw)


# The derivative of the element-wise loss `code` (with `params`) at one point, by the
# switch: 0, or a negative status for a code no element-wise kernel has (UNKNOWN_LOSS,
# or the multi-class loss's code). (Compiled in
# _kernels.pyx; the engine's 'optimal' schedule takes its first step from it.)
cdef int grad_by_code(int code, const LossParams* params, double y, double raw,
                      double* gradient) noexcept nogil
