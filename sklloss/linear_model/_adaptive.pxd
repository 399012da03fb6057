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
# Lazy penalty: a row updates only the coordinates it has (a CSR row's), and only
# when its gradient is not zero (a hinge loss's well-classified row updates none).
# The penalty steps of the rows a coordinate sat out are taken with its next update,
# before its gradient step, as one proximal step of those k rows' penalty at its
# current step,
#     prox_j^k(w) = sign(w) max(|w| - k l1 step, 0) / (1 + k l2 step),
# and at the end of each epoch (then the stored weights are the model's). The rows in
# between read the weight as it was stored. A coordinate that has had no gradient yet
# has no step, and no penalty step either.
#
# What is stored is r_j = sqrt(G_j) (and r for the intercept): an update costs one
# square root and, with an L2 or no penalty, one division (the pending rows' penalty,
# the gradient step and the row's own penalty, as one fraction: the C function
# sklloss_adagrad_l2 below; with L1, four: sklloss_adagrad_enet). Every row's update
# runs one vectorised loop (AVX-512 / AVX2 clones where the CPU has them): a dense
# row's over its coordinates, a sparse row's over its coordinates' state gathered
# into a thread's buffers while its raw prediction is computed (_gather), then put
# back.
#
# Averaging follows scikit-learn's lazy form with wscale = 1: every change of a
# weight subtracts avg_a times the change from its running-average record.

from cython cimport floating
from libc.math cimport fabs, isfinite, sqrt

from sklloss.linear_model._rows cimport _dot, index_t
from sklloss.linear_model._settings cimport NO_PENALTY, Settings
from sklloss.linear_model._weights cimport Coordinates, Output, _advance_average


cdef extern from "sklloss/linear_model/_adaptive.h":
    double _soft_threshold "sklloss_soft_threshold"(double w, double threshold) noexcept nogil
    void _adagrad_dense_d "sklloss_adagrad_dense_d"(
        double* w, double* aw, double* root, const double* x, const double* inv_scale,
        Py_ssize_t n, double gradient, double eta, double kpend, const double* kpend_each,
        double l1, double l2, double avg_a) noexcept nogil
    void _adagrad_dense_f "sklloss_adagrad_dense_f"(
        float* w, float* aw, double* root, const float* x, const double* inv_scale,
        Py_ssize_t n, double gradient, double eta, double kpend, const double* kpend_each,
        double l1, double l2, double avg_a) noexcept nogil
    double _normalised_dot_d "sklloss_normalised_dot_d"(
        const double* w, const double* x, const double* inv_scale, Py_ssize_t n,
        double* norm, int* grows) noexcept nogil
    float _normalised_dot_f "sklloss_normalised_dot_f"(
        const float* w, const float* x, const double* inv_scale, Py_ssize_t n,
        double* norm, int* grows) noexcept nogil


cdef inline double _proximal(double w, double k, double step, double l1_units,
                             const Settings* s) noexcept nogil:
    """k rows' penalty on a weight whose step is `step` (l1_units: 1, or for the
    normalised schedule 1 / s_j, the L1 threshold's units)."""
    cdef double threshold = k * s.l1_strength * step * l1_units
    if threshold > 0.0:
        w = _soft_threshold(w, threshold)
    return w / (1.0 + k * s.l2_strength * step)


cdef inline void _set(floating* w, floating* aw, Py_ssize_t j, double new,
                      const Output* o) noexcept nogil:
    """w_j <- new, and its running-average record."""
    if aw != NULL:
        aw[j] = <floating>(aw[j] - o.avg_a * (<double><floating>new - <double>w[j]))
    w[j] = <floating>new


cdef inline void _grow_scales(floating* w, floating* aw, Coordinates c, const floating* x,
                              const index_t* idx, Py_ssize_t nnz, const Output* o) noexcept nogil:
    """normalized: the scales s_j of the row's features grow to its |x_j| where it
    exceeds them; u_j = w_j s_j stays, so w_j and r_j (in u's units) rescale."""
    cdef Py_ssize_t jj, j
    cdef double xj, new_inv, ratio
    for jj in range(nnz):
        j = jj if idx == NULL else idx[jj]
        xj = x[jj]
        # (inf * |x_j| > 1 for a feature's first non-zero value; 0 * inf is NaN: false)
        if fabs(xj) * c.inv_scale[j] > 1.0:
            new_inv = 1.0 / fabs(xj)
            if isfinite(c.inv_scale[j]):
                ratio = new_inv / c.inv_scale[j]
                c.root[j] *= ratio
                _set(w, aw, j, w[j] * ratio, o)
            c.inv_scale[j] = new_inv


cdef inline double _adaptive_raw(const Settings* s, Output* o, floating* w, floating* aw,
                                 Coordinates c, const floating* x, const index_t* idx,
                                 Py_ssize_t nnz, double t, double* row_norm) noexcept nogil:
    """<w, x> for the row of time step t (normalized: after its scales have grown to
    the row's |x_j|); stores the row's ||x / s||^2 in row_norm. One pass over the row:
    a sparse row's coordinates are gathered for the update in the same pass."""
    cdef double dot
    cdef int grows = 0
    row_norm[0] = 0.0
    if idx != NULL:
        return _gather(s, o, w, aw, c, x, idx, nnz, t, row_norm)
    if c.inv_scale == NULL:
        return _dot(w, x, idx, nnz)
    # (a scale grows on a feature's first values only: then a second pass)
    dot = _normalised_dot(w, x, c.inv_scale, nnz, row_norm, &grows)
    if grows:
        _grow_scales(w, aw, c, x, idx, nnz, o)
        dot = _normalised_dot(w, x, c.inv_scale, nnz, row_norm, &grows)
    return dot


cdef inline double _normalised_dot(const floating* w, const floating* x,
                                   const double* inv_scale, Py_ssize_t n, double* norm,
                                   int* grows) noexcept nogil:
    if floating is double:
        return _normalised_dot_d(w, x, inv_scale, n, norm, grows)
    else:
        return _normalised_dot_f(w, x, inv_scale, n, norm, grows)


ctypedef struct Gathered:
    # a sparse row's coordinates in a thread's buffer (Coordinates.buffer), nnz each
    double* w
    double* root
    double* scale
    double* pending     # the rows each one's penalty has pending
    double* x           # the row's values as float64 (float32 data)


cdef inline Gathered _buffers(Coordinates c, Py_ssize_t nnz) noexcept nogil:
    cdef Gathered b
    b.w = c.buffer
    b.root = b.w + nnz
    b.scale = b.root + nnz
    b.pending = b.scale + nnz
    b.x = b.pending + nnz
    return b


cdef inline double _gather(const Settings* s, Output* o, floating* w, floating* aw,
                           Coordinates c, const floating* x, const index_t* idx,
                           Py_ssize_t nnz, double t, double* row_norm) noexcept nogil:
    """A sparse row's coordinates (weight, root, scale, pending rows, and the values
    as float64) copied into the thread's contiguous buffers, each scale grown first
    (and w_j and r_j with it); returns <w, x> and stores ||x / s||^2 in row_norm."""
    cdef Py_ssize_t jj, j
    cdef Gathered b = _buffers(c, nnz)
    cdef double norm = 0.0, u, xj
    cdef floating dot = 0
    cdef bint penalised = s.penalty != NO_PENALTY
    for jj in range(nnz):
        j = idx[jj]
        xj = x[jj]
        if c.inv_scale != NULL:
            if fabs(xj) * c.inv_scale[j] > 1.0:
                _grow_scales(w, aw, c, x + jj, idx + jj, 1, o)
            b.scale[jj] = c.inv_scale[j]
            if xj != 0.0:
                u = xj * b.scale[jj]
                norm += u * u
        if penalised:
            b.pending[jj] = t - 1.0 - c.last[j]
        if floating is float:
            b.x[jj] = xj
        b.w[jj] = w[j]
        b.root[jj] = c.root[j]
        dot += w[j] * x[jj]
    row_norm[0] = norm
    return dot


cdef inline void _adaptive_apply(const Settings* s, Output* o, floating* w, floating* aw,
                                 Coordinates c, const floating* x, const index_t* idx,
                                 Py_ssize_t nnz, double gradient, double t,
                                 bint gathered) noexcept nogil:
    """The update of the row of time step t whose loss has the (weighted) derivative
    `gradient` at the raw prediction; then the running average. gathered: the thread's
    buffers still hold this sparse row's coordinates from _adaptive_raw (else they are
    gathered again)."""
    cdef double eta = o.step, k
    cdef bint penalised = s.penalty != NO_PENALTY
    cdef double avg_a = o.avg_a if aw != NULL else 0.0
    if gradient != 0.0:
        if idx == NULL:
            # (the rows since the last update are pending for every coordinate alike)
            k = t - 1.0 - o.penalised_until if penalised else 0.0
            if floating is double:
                _adagrad_dense_d(w, aw, c.root, x, c.inv_scale, nnz, gradient, eta, k * eta,
                                 NULL, s.l1_strength, s.l2_strength, avg_a)
            else:
                _adagrad_dense_f(w, aw, c.root, x, c.inv_scale, nnz, gradient, eta, k * eta,
                                 NULL, s.l1_strength, s.l2_strength, avg_a)
            if penalised:
                o.penalised_until = t
        else:
            _sparse_update(s, o, w, aw, c, x, idx, nnz, gradient, t, gathered)
        if s.fit_intercept:
            o.root_intercept = sqrt(o.root_intercept * o.root_intercept
                                    + gradient * gradient)
            if o.root_intercept > 0.0:
                o.intercept -= eta * gradient / o.root_intercept
    if 0 < s.average <= t:
        _advance_average(s, o, t)


cdef inline void _sparse_update(const Settings* s, Output* o, floating* w, floating* aw,
                                Coordinates c, const floating* x, const index_t* idx,
                                Py_ssize_t nnz, double gradient, double t,
                                bint gathered) noexcept nogil:
    """A sparse row's update: its coordinates' state in the thread's buffers (see
    _gather), updated by the dense row's vectorised loop, then put back."""
    cdef Py_ssize_t jj, j
    cdef Gathered b = _buffers(c, nnz)
    cdef double ignored
    cdef bint penalised = s.penalty != NO_PENALTY
    if not gathered:
        _gather(s, o, w, aw, c, x, idx, nnz, t, &ignored)
    if floating is double:
        _adagrad_dense_d(b.w, NULL, b.root, x, b.scale if c.inv_scale != NULL else NULL, nnz,
                         gradient, o.step, 0.0, b.pending if penalised else NULL,
                         s.l1_strength, s.l2_strength, 0.0)
    else:
        _adagrad_dense_d(b.w, NULL, b.root, b.x, b.scale if c.inv_scale != NULL else NULL, nnz,
                         gradient, o.step, 0.0, b.pending if penalised else NULL,
                         s.l1_strength, s.l2_strength, 0.0)
    for jj in range(nnz):
        j = idx[jj]
        _set(w, aw, j, b.w[jj], o)
        c.root[j] = b.root[jj]
        if penalised:
            c.last[j] = t


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
    cdef double k
    if s.penalty == NO_PENALTY:
        return
    for j in range(d):
        k = t - 1.0 - (o.penalised_until if c.last == NULL else c.last[j])
        if k > 0.0 and c.root[j] > 0.0:
            _set(w, aw, j, _proximal(w[j], k, o.step / c.root[j],
                                     1.0 if c.inv_scale == NULL else c.inv_scale[j], s), o)
        if c.last != NULL:
            c.last[j] = t - 1.0
    o.penalised_until = t - 1.0
