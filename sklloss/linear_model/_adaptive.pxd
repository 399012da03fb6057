# Per-coordinate step rules of the SGD engine: learning_rate='adagrad' and
# 'normalized_adagrad'.
#
# 'adagrad' is the diagonal AdaGrad of Duchi, Hazan and Singer (JMLR 2011) in its
# composite mirror descent form: with g the loss's derivative at the row's raw
# prediction (scikit-learn's clip at 1e12), c the row's weight and a_j = c g x_j,
#     G_j <- G_j + a_j^2,   w_j <- prox_j(w_j - eta a_j / sqrt(G_j))
# where prox_j is the penalty's proximal step for the coordinate's own step
# eta / sqrt(G_j): for alpha (l1_ratio |w| + (1 - l1_ratio) / 2 w^2),
#     prox_j(w) = sign(w) max(|w| - l1 step, 0) / (1 + l2 step),
#     l1 = alpha l1_ratio, l2 = alpha (1 - l1_ratio), step = eta / sqrt(G_j).
# The intercept is a coordinate with x = 1 and no penalty.
#
# 'normalized_adagrad' is AdaGrad on the normalised features x_j / s_j, s_j the
# largest |x_j| seen so far, with the base step eta sqrt(T / N) (T the summed weight
# of the rows seen, N the summed weight times ||x / s||^2, the intercept's x = 1
# included): the NAG algorithm of Ross, Mineiro and Langford ("Normalized online
# learning", UAI 2013), Vowpal Wabbit's default update. Its state is that of the
# normalised weights u_j = w_j s_j (G_j sums (c g x_j / s_j)^2), which a new, larger
# s_j leaves unchanged (w_j and G_j rescale), and its penalty is on u: so rescaling a
# feature changes nothing but the weight's units.
#
# Sparse rows touch only their own coordinates: the penalty steps of the rows a
# coordinate sat out are taken together when it is next read (and at the end of each
# epoch), as one proximal step of those k rows' penalty,
#     prox_j^k(w) = sign(w) max(|w| - k l1 step, 0) / (1 + k l2 step),
# at the coordinate's current step. A row whose gradient is zero (a hinge loss's
# well-classified row, say) is such a row for all its coordinates. A coordinate that
# has had no gradient yet has no step, and no penalty step either.
#
# Averaging follows scikit-learn's lazy form with wscale = 1: every change of a
# weight subtracts avg_a times the change from its running-average record.

from cython cimport floating
from libc.math cimport fabs, isfinite, sqrt

from sklloss.linear_model._rows cimport index_t
from sklloss.linear_model._settings cimport NO_PENALTY, Settings
from sklloss.linear_model._weights cimport Output, _advance_average


ctypedef struct Coordinates:
    # one output's per-coordinate state: rows of (K, d) float64 arrays
    double* sum_sq          # G: the sums of squared (normalised) gradients
    double* inv_scale       # normalized: 1 / s_j (inf for a feature not seen yet); else NULL
    double* last            # the time step of the last row whose penalty w_j has had


cdef inline double _proximal(double w, double k, double step, double l1_factor,
                             const Settings* s) noexcept nogil:
    """k rows' penalty on a weight whose step is `step` (l1_factor: 1, or for the
    normalised schedule 1 / s_j, the L1 threshold's units)."""
    cdef double threshold = k * s.l1_strength * step * l1_factor
    if threshold > 0.0:
        if w > threshold:
            w -= threshold
        elif w < -threshold:
            w += threshold
        else:
            w = 0.0
    return w / (1.0 + k * s.l2_strength * step)


cdef inline void _change(floating* w, floating* aw, Py_ssize_t j, double new,
                         double unit, Output* o, double* dsq, double* dl1) noexcept nogil:
    """w_j <- new (rounded to the float type), with the norms (of w_j * unit, what the
    penalty sees) and the running-average record."""
    cdef double old = w[j]
    w[j] = <floating>new
    new = w[j]
    if aw != NULL:
        aw[j] = <floating>(aw[j] - o.avg_a * (new - old))
    dsq[0] += (new * new - old * old) * unit * unit
    dl1[0] += (fabs(new) - fabs(old)) * unit


cdef inline double _adaptive_raw(const Settings* s, Output* o, floating* w, floating* aw,
                                 Coordinates c, const floating* x, const index_t* idx,
                                 Py_ssize_t nnz, double t, double* row_norm) noexcept nogil:
    """<w, x> for the row of time step t, once the row's coordinates have had the
    penalty of the rows they sat out (and, normalised, their scales s_j have grown to
    the row's |x_j|); stores the row's ||x / s||^2 in row_norm."""
    cdef Py_ssize_t jj, j
    cdef double xj, k, ratio, new_inv, unit = 1.0, dot = 0.0, norm = 0.0, dsq = 0.0, dl1 = 0.0
    cdef bint penalised = s.penalty != NO_PENALTY
    for jj in range(nnz):
        j = jj if idx == NULL else idx[jj]
        xj = x[jj]
        if c.inv_scale != NULL and xj != 0.0:
            # (inf * |x_j| > 1 for a feature's first non-zero value)
            if fabs(xj) * c.inv_scale[j] > 1.0:
                new_inv = 1.0 / fabs(xj)
                if isfinite(c.inv_scale[j]):
                    # a larger scale: u_j = w_j s_j stays, G_j (in u's units) and
                    # w_j rescale (the norms, of u, do not change: unit 0)
                    ratio = new_inv / c.inv_scale[j]
                    c.sum_sq[j] *= ratio * ratio
                    _change(w, aw, j, w[j] * ratio, 0.0, o, &dsq, &dl1)
                else:
                    # the first sighting: u_j goes from 0 to w_j |x_j|
                    dsq += (<double>w[j] * xj) * (<double>w[j] * xj)
                    dl1 += fabs(<double>w[j] * xj)
                c.inv_scale[j] = new_inv
            norm += (xj * c.inv_scale[j]) * (xj * c.inv_scale[j])
        if c.inv_scale != NULL:
            unit = 1.0 / c.inv_scale[j]
        if penalised:
            k = t - 1.0 - c.last[j]
            if k > 0.0:
                if c.sum_sq[j] > 0.0:
                    _change(w, aw, j,
                            _proximal(w[j], k, o.step / sqrt(c.sum_sq[j]),
                                      1.0 if c.inv_scale == NULL else c.inv_scale[j], s),
                            unit, o, &dsq, &dl1)
                c.last[j] = t - 1.0
        dot += <double>w[j] * xj
    o.sq_norm += dsq
    if o.sq_norm < 0.0:
        o.sq_norm = 0.0
    o.l1_norm += dl1
    row_norm[0] = norm
    return dot


cdef inline void _adaptive_apply(const Settings* s, Output* o, floating* w, floating* aw,
                                 Coordinates c, const floating* x, const index_t* idx,
                                 Py_ssize_t nnz, double gradient, double t) noexcept nogil:
    """The step of the row of time step t whose loss has the (weighted) derivative
    `gradient` at the raw prediction; then the running average."""
    cdef Py_ssize_t jj, j
    cdef double xj, a, step, new, scale = 1.0, dsq = 0.0, dl1 = 0.0
    cdef bint penalised = s.penalty != NO_PENALTY
    if gradient != 0.0:
        for jj in range(nnz):
            j = jj if idx == NULL else idx[jj]
            xj = x[jj]
            if c.inv_scale != NULL:
                scale = c.inv_scale[j]
                if not isfinite(scale):
                    continue  # a feature not seen yet (x_j = 0): no gradient, no step
                xj *= scale
            a = gradient * xj
            c.sum_sq[j] += a * a
            if c.sum_sq[j] > 0.0:
                step = o.step / sqrt(c.sum_sq[j])
                # a step of u_j = w_j / scale by -step a, in w_j's units
                new = w[j] - step * a * scale
                if penalised:
                    new = _proximal(new, 1.0, step, scale, s)
                _change(w, aw, j, new, 1.0 / scale, o, &dsq, &dl1)
            if penalised:
                c.last[j] = t
        o.sq_norm += dsq
        if o.sq_norm < 0.0:
            o.sq_norm = 0.0
        o.l1_norm += dl1
        if s.fit_intercept:
            o.sum_sq_intercept += gradient * gradient
            if o.sum_sq_intercept > 0.0:
                o.intercept -= o.step * gradient / sqrt(o.sum_sq_intercept)
    if 0 < s.average <= t:
        _advance_average(s, o, t)


cdef inline void _count_row(const Settings* s, Output* o, double weight,
                            double row_norm) noexcept nogil:
    """The normalised schedule's base step after a row of this weight and ||x / s||^2."""
    if weight > 0.0:
        o.weight_sum += weight
        o.norm_sum += weight * (row_norm + (1.0 if s.fit_intercept else 0.0))
    if o.norm_sum > 0.0:
        o.step = s.base_step * sqrt(o.weight_sum / o.norm_sum)


cdef inline void _adaptive_flush(const Settings* s, Output* o, floating* w, floating* aw,
                                 Coordinates c, Py_ssize_t d, double t) noexcept nogil:
    """Every coordinate's pending penalty up to the row of time step t - 1 (the end of
    an epoch): then the stored weights are the model's."""
    cdef Py_ssize_t j
    cdef double k, dsq = 0.0, dl1 = 0.0
    if s.penalty == NO_PENALTY:
        return
    for j in range(d):
        k = t - 1.0 - c.last[j]
        if k > 0.0:
            if c.sum_sq[j] > 0.0:
                _change(w, aw, j,
                        _proximal(w[j], k, o.step / sqrt(c.sum_sq[j]),
                                  1.0 if c.inv_scale == NULL else c.inv_scale[j], s),
                        1.0 if c.inv_scale == NULL else 1.0 / c.inv_scale[j],
                        o, &dsq, &dl1)
            c.last[j] = t - 1.0
    o.sq_norm += dsq
    if o.sq_norm < 0.0:
        o.sq_norm = 0.0
    o.l1_norm += dl1
