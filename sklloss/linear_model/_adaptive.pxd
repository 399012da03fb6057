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
# sklloss_adagrad_l2 below). Dense rows with those penalties take a vectorised loop
# (an AVX2 clone where the CPU has it).
#
# Averaging follows scikit-learn's lazy form with wscale = 1: every change of a
# weight subtracts avg_a times the change from its running-average record.

from cython cimport floating
from libc.math cimport fabs, isfinite, sqrt

from sklloss.linear_model._rows cimport _dot, index_t
from sklloss.linear_model._settings cimport NO_PENALTY, Settings
from sklloss.linear_model._weights cimport Output, _advance_average


cdef extern from *:
    """
    #if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
    #define SKLLOSS_ADAGRAD_CLONES __attribute__((target_clones("avx2", "default")))
    #else
    #define SKLLOSS_ADAGRAD_CLONES
    #endif
    #include <math.h>

    /* One coordinate's update under an L2 (or no) penalty: the pending rows' penalty
       w' = w r0 / (r0 + pend) (w itself while r0 = 0: no step yet), the gradient step
       w' - eta a s / r and the row's penalty / (1 + cur / r), as one fraction.
       r0, r: the root of the sum of squared gradients before and after this row;
       step = eta a s; pend = k eta l2 for the k pending rows; cur = eta l2. */
    static inline double sklloss_adagrad_l2(double w, double r0, double r, double step,
                                            double pend, double cur) {
        double A = r0 > 0.0 ? r0 * r : r;
        double B = r0 > 0.0 ? r0 + pend : 1.0;
        double updated = (w * A - step * B) / (B * (r + cur));
        return r > 0.0 ? updated : w;
    }

    /* A dense row's update of all n coordinates (inv_scale: NULL, or the normalised
       schedule's 1 / s_j; aw: NULL, or the running-average record; pend_each: NULL,
       or each coordinate's own pend, else pend). A sparse row's coordinates take it
       too, gathered into contiguous buffers. */
    #define SKLLOSS_ADAGRAD_DENSE(NAME, T)                                            \\
    SKLLOSS_ADAGRAD_CLONES static void NAME(                                        \\
            T *w, T *aw, double *root, const T *x, const double *inv_scale,         \\
            Py_ssize_t n, double gradient, double eta, double pend,                 \\
            const double *pend_each, double cur, double avg_a) {                    \\
        for (Py_ssize_t j = 0; j < n; j++) {                                        \\
            double xj = x[j];                                                       \\
            double s = inv_scale == NULL ? 1.0 : (xj != 0.0 ? inv_scale[j] : 0.0);  \\
            double a = gradient * xj * s;                                           \\
            double r0 = root[j];                                                    \\
            double r = sqrt(r0 * r0 + a * a);                                       \\
            double old = w[j];                                                      \\
            double pj = pend_each == NULL ? pend : pend_each[j];                    \\
            T updated = (T)sklloss_adagrad_l2(old, r0, r, eta * a * s, pj, cur);    \\
            root[j] = r;                                                            \\
            if (aw != NULL) aw[j] = (T)(aw[j] - avg_a * ((double)updated - old));   \\
            w[j] = updated;                                                         \\
        }                                                                           \\
    }
    SKLLOSS_ADAGRAD_DENSE(sklloss_adagrad_dense_d, double)
    SKLLOSS_ADAGRAD_DENSE(sklloss_adagrad_dense_f, float)

    /* A dense row's ||x / s||^2 (x_j = 0 counts 0, also where s_j = 0), and whether
       some |x_j| exceeds its scale s_j. */
    #define SKLLOSS_NORMALISED_NORM(NAME, T)                                          \\
    SKLLOSS_ADAGRAD_CLONES static double NAME(const T *x, const double *inv_scale,  \\
                                              Py_ssize_t n, int *grows) {           \\
        double norm = 0.0;                                                          \\
        int any = 0;                                                                \\
        _Pragma("omp simd reduction(+:norm) reduction(|:any)")                      \\
        for (Py_ssize_t j = 0; j < n; j++) {                                        \\
            double xj = x[j];                                                       \\
            double u = xj != 0.0 ? xj * inv_scale[j] : 0.0;                         \\
            any |= fabs(u) > 1.0;                                                   \\
            norm += u * u;                                                          \\
        }                                                                           \\
        *grows = any;                                                               \\
        return norm;                                                                \\
    }
    SKLLOSS_NORMALISED_NORM(sklloss_normalised_norm_d, double)
    SKLLOSS_NORMALISED_NORM(sklloss_normalised_norm_f, float)
    """
    double _adagrad_l2 "sklloss_adagrad_l2"(double w, double r0, double r, double step,
                                            double pend, double cur) noexcept nogil
    void _adagrad_dense_d "sklloss_adagrad_dense_d"(
        double* w, double* aw, double* root, const double* x, const double* inv_scale,
        Py_ssize_t n, double gradient, double eta, double pend, const double* pend_each,
        double cur, double avg_a) noexcept nogil
    void _adagrad_dense_f "sklloss_adagrad_dense_f"(
        float* w, float* aw, double* root, const float* x, const double* inv_scale,
        Py_ssize_t n, double gradient, double eta, double pend, const double* pend_each,
        double cur, double avg_a) noexcept nogil
    double _normalised_norm_d "sklloss_normalised_norm_d"(
        const double* x, const double* inv_scale, Py_ssize_t n, int* grows) noexcept nogil
    double _normalised_norm_f "sklloss_normalised_norm_f"(
        const float* x, const double* inv_scale, Py_ssize_t n, int* grows) noexcept nogil


ctypedef struct Coordinates:
    # one output's per-coordinate state: rows of (K, d) float64 arrays
    double* root            # r_j = sqrt(G_j), G_j the sum of squared (normalised) gradients
    double* inv_scale       # normalized: 1 / s_j (inf for a feature not seen yet); else NULL
    double* last            # sparse rows: the last row whose penalty w_j has had; else NULL
    double* buffer          # sparse rows: 5 * (the longest row's nnz) doubles (a thread's)


cdef inline double _proximal(double w, double k, double step, double l1_units,
                             const Settings* s) noexcept nogil:
    """k rows' penalty on a weight whose step is `step` (l1_units: 1, or for the
    normalised schedule 1 / s_j, the L1 threshold's units)."""
    cdef double threshold = k * s.l1_strength * step * l1_units
    if threshold > 0.0:
        if w > threshold:
            w -= threshold
        elif w < -threshold:
            w += threshold
        else:
            w = 0.0
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
                                 Py_ssize_t nnz, double* row_norm) noexcept nogil:
    """<w, x> for a row (normalized: after its scales have grown to the row's
    |x_j|); stores the row's ||x / s||^2 in row_norm."""
    cdef Py_ssize_t jj
    cdef double norm = 0.0, u
    cdef int grows = 0
    if c.inv_scale != NULL:
        if idx == NULL:
            if floating is double:
                norm = _normalised_norm_d(x, c.inv_scale, nnz, &grows)
            else:
                norm = _normalised_norm_f(x, c.inv_scale, nnz, &grows)
            if grows:
                _grow_scales(w, aw, c, x, idx, nnz, o)
                norm = (_normalised_norm_d(x, c.inv_scale, nnz, &grows) if floating is double
                        else _normalised_norm_f(x, c.inv_scale, nnz, &grows))
        else:
            _grow_scales(w, aw, c, x, idx, nnz, o)
            for jj in range(nnz):
                if x[jj] != 0.0:
                    u = x[jj] * c.inv_scale[idx[jj]]
                    norm += u * u
    row_norm[0] = norm
    return _dot(w, x, idx, nnz)


cdef inline void _adaptive_apply(const Settings* s, Output* o, floating* w, floating* aw,
                                 Coordinates c, const floating* x, const index_t* idx,
                                 Py_ssize_t nnz, double gradient, double t) noexcept nogil:
    """The update of the row of time step t whose loss has the (weighted) derivative
    `gradient` at the raw prediction; then the running average."""
    cdef Py_ssize_t jj, j
    cdef double xj, scale = 1.0, a, r0, r, k, eta = o.step, new, units
    cdef bint penalised = s.penalty != NO_PENALTY
    cdef bint has_l1 = s.l1_strength > 0.0
    cdef double avg_a = o.avg_a if aw != NULL else 0.0
    if gradient != 0.0:
        if idx == NULL and not has_l1:
            k = t - 1.0 - o.penalised_until if penalised else 0.0
            if floating is double:
                _adagrad_dense_d(w, aw, c.root, x, c.inv_scale, nnz, gradient, eta,
                                 k * eta * s.l2_strength, NULL, eta * s.l2_strength, avg_a)
            else:
                _adagrad_dense_f(w, aw, c.root, x, c.inv_scale, nnz, gradient, eta,
                                 k * eta * s.l2_strength, NULL, eta * s.l2_strength, avg_a)
        elif not has_l1:
            _sparse_l2(s, o, w, aw, c, x, idx, nnz, gradient, t)
        else:
            k = t - 1.0 - o.penalised_until
            for jj in range(nnz):
                j = jj if idx == NULL else idx[jj]
                xj = x[jj]
                if c.inv_scale != NULL:
                    scale = c.inv_scale[j] if xj != 0.0 else 0.0
                if idx != NULL and penalised:
                    k = t - 1.0 - c.last[j]
                    c.last[j] = t
                a = gradient * xj * scale
                r0 = c.root[j]
                r = sqrt(r0 * r0 + a * a)
                c.root[j] = r
                if not has_l1:
                    new = _adagrad_l2(w[j], r0, r, eta * a * scale, k * eta * s.l2_strength,
                                      eta * s.l2_strength)
                else:
                    new = w[j]
                    units = 1.0 if c.inv_scale == NULL else c.inv_scale[j]
                    if r0 > 0.0 and k > 0.0:
                        new = _proximal(new, k, eta / r0, units, s)
                    if r > 0.0:
                        new = _proximal(new - eta * a * scale / r, 1.0, eta / r, units, s)
                _set(w, aw, j, new, o)
        if idx == NULL and penalised:
            o.penalised_until = t
        if s.fit_intercept:
            o.root_intercept = sqrt(o.root_intercept * o.root_intercept
                                    + gradient * gradient)
            if o.root_intercept > 0.0:
                o.intercept -= eta * gradient / o.root_intercept
    if 0 < s.average <= t:
        _advance_average(s, o, t)


cdef inline void _sparse_l2(const Settings* s, Output* o, floating* w, floating* aw,
                            Coordinates c, const floating* x, const index_t* idx,
                            Py_ssize_t nnz, double gradient, double t) noexcept nogil:
    """A sparse row's update under an L2 (or no) penalty: its coordinates' state
    gathered into contiguous buffers, updated by the dense row's vectorised loop (its
    square roots and divisions four at a time), then put back."""
    cdef Py_ssize_t jj, j
    cdef double* bw = c.buffer
    cdef double* br = bw + nnz
    cdef double* bs = br + nnz
    cdef double* bp = bs + nnz
    cdef double* bx = bp + nnz
    cdef const double* xd
    cdef double eta = o.step
    cdef bint penalised = s.penalty != NO_PENALTY
    for jj in range(nnz):
        j = idx[jj]
        bw[jj] = w[j]
        br[jj] = c.root[j]
        if c.inv_scale != NULL:
            bs[jj] = c.inv_scale[j]
        if penalised:
            bp[jj] = (t - 1.0 - c.last[j]) * eta * s.l2_strength
            c.last[j] = t
    if floating is double:
        xd = x
    else:
        for jj in range(nnz):
            bx[jj] = x[jj]
        xd = bx
    _adagrad_dense_d(bw, NULL, br, xd, bs if c.inv_scale != NULL else NULL, nnz,
                     gradient, eta, 0.0, bp if penalised else NULL,
                     eta * s.l2_strength, 0.0)
    for jj in range(nnz):
        j = idx[jj]
        _set(w, aw, j, bw[jj], o)
        c.root[j] = br[jj]


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
