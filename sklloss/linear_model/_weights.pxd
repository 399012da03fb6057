# The per-output weight state of the SGD engine and its arithmetic.
#
# Output k's weights are w = wscale * v, v being the stored row coef[k]: the L2
# shrinkage w *= (1 - eta alpha) costs O(1) (Bottou, "Stochastic Gradient Descent
# Tricks", 2012), v is rescaled when wscale falls below a threshold. Averaged SGD keeps
# the running average as (aw + avg_a v) / avg_b, so that a sparse row updates it in
# O(nnz) (same reference). L1 is the truncated gradient with the cumulative penalty u
# and the applied penalty q of Tsuruoka, Tsujii and Ananiadou (ACL 2009). The
# per-coordinate schedules (_adaptive.pxd) keep wscale at 1 and their own state: rows
# of (K, d) arrays (Coordinates), and the per-output sums below.

from cython cimport floating
from libc.math cimport fabs, isfinite

from sklloss.linear_model._rows cimport _add, index_t
from sklloss.linear_model._settings cimport Settings


ctypedef struct Coordinates:
    # one output's per-coordinate state (_adaptive.pxd): rows of (K, d) float64 arrays
    double* root            # r_j = sqrt(G_j), G_j the sum of squared (normalised) gradients
    double* inv_scale       # normalized: 1 / s_j (inf for a feature not seen yet); else NULL
    double* last            # sparse rows: the last row whose penalty w_j has had; else NULL
    double* buffer          # sparse rows: 5 * (the longest row's nnz) doubles (a thread's)


ctypedef struct Output:
    const Settings* s       # its model's hyperparameters (shared by a model's outputs)
    Coordinates coordinates # per-coordinate schedules: its rows of their state; else NULLs
    double wscale           # w = wscale * v
    double sq_norm          # ||w||^2, kept up to date for the objective
    double l1_norm          # ||w||_1, idem (only with an L1 part)
    double intercept
    double avg_a            # average = (aw + avg_a * v) / avg_b
    double avg_b
    double avg_intercept
    double u                # cumulative L1 penalty (truncated gradient)
    double eta              # learning rate of constant / adaptive / PA schedules
    double sumloss          # this epoch's sum of losses
    double objective        # this epoch's sum of losses + penalties
    bint active             # still learning (not stopped by tol / early stopping)
    bint overflow           # a prediction left the float type's range: diverged
    # per-coordinate schedules (_adaptive.pxd):
    double root_intercept   # the root of the intercept's sum of squared gradients
    double penalised_until  # dense rows: the last row whose penalty w has had
    double weight_sum       # normalized: the rows' summed weight (T)
    double norm_sum         # normalized: their summed normalised squared norms (N)
    double step             # the current base step (normalized: base_step sqrt(T/N))


cdef inline void _l1_truncate(floating* w, floating* q, const index_t* idx,
                              Py_ssize_t nnz, Output* o) noexcept nogil:
    """Truncated gradient on the row's features (all d of them for a dense row)."""
    cdef Py_ssize_t j, f
    cdef double z, new, wscale = o.wscale, u = o.u
    cdef double dsq = 0.0, dl1 = 0.0
    for j in range(nnz):
        f = j if idx == NULL else idx[j]
        z = w[f]
        if wscale * z > 0.0:
            new = z - (u + q[f]) / wscale
            if new < 0.0:
                new = 0.0
        elif wscale * z < 0.0:
            new = z + (u - q[f]) / wscale
            if new > 0.0:
                new = 0.0
        else:
            new = z
        w[f] = <floating>new
        new = w[f]
        q[f] += <floating>(wscale * (new - z))
        dsq += new * new - z * z
        dl1 += fabs(new) - fabs(z)
    o.sq_norm += dsq * wscale * wscale
    o.l1_norm += dl1 * wscale


# Folding the scale into the stored vectors happens rarely (when wscale falls below a
# threshold), so its loops are C functions kept out of line: inlined into the weight
# update (as GCC does with any `inline` function that fits its budget), they pushed
# the update past GCC's budget for inlining into the epoch loops, and the update
# became a call per row and output.
cdef extern from "sklloss/linear_model/_weights.h":
    void _fold_scale_d "sklloss_fold_scale_d"(double* w, double* aw, Py_ssize_t d,
                                              double wscale, double avg_a,
                                              double avg_b) noexcept nogil
    void _fold_scale_f "sklloss_fold_scale_f"(float* w, float* aw, Py_ssize_t d,
                                              double wscale, double avg_a,
                                              double avg_b) noexcept nogil


cdef inline void _reset_wscale(floating* w, floating* aw, Py_ssize_t d, Output* o) noexcept nogil:
    """Fold wscale (and the averaging factors) into the stored vectors:
    aw = (aw + avg_a w) / avg_b, then w = wscale w."""
    if floating is double:
        _fold_scale_d(w, aw, d, o.wscale, o.avg_a, o.avg_b)
    else:
        _fold_scale_f(w, aw, d, o.wscale, o.avg_a, o.avg_b)
    if aw != NULL:
        o.avg_a = 0.0
        o.avg_b = 1.0
    o.wscale = 1.0


cdef inline void _exact_norms(const floating* w, Py_ssize_t d, const double* inv_scale,
                              Output* o) noexcept nogil:
    """The norms of w, or with inv_scale (the normalised schedule's 1 / s_j) of the
    normalised weights w_j s_j, which it penalises."""
    cdef Py_ssize_t j
    cdef double sq = 0.0, l1 = 0.0, u
    for j in range(d):
        u = w[j] if inv_scale == NULL else w[j] / inv_scale[j]
        sq += u * u
        l1 += fabs(u)
    o.sq_norm = sq * o.wscale * o.wscale
    o.l1_norm = l1 * o.wscale


cdef inline void _advance_average(const Settings* s, Output* o, double t) noexcept nogil:
    """Adds the weights after the step of sample t to the running average (the
    caller has subtracted avg_a * (change of v) from aw for every changed weight)."""
    cdef double num_iter = t - s.average + 1.0
    cdef double mu = 1.0 / num_iter
    if num_iter > 1.0:
        o.avg_b /= 1.0 - mu
    o.avg_a += mu * o.avg_b * o.wscale
    o.avg_intercept += (o.intercept - o.avg_intercept) / num_iter


cdef inline void _apply(const Settings* s, Output* o, floating* w, floating* aw,
                        floating* q, Py_ssize_t d, const floating* x, const index_t* idx,
                        Py_ssize_t nnz, double xsq, double p_lin, double eta,
                        double update, double t) noexcept nogil:
    """w += update * x (and b += update), after the L2 shrinkage; then the running
    average and the L1 truncation. p_lin is <w, x> before the step."""
    cdef double shrink, dl1, intercept_update
    cdef bint track_l1 = s.tracks_l1
    if s.shrinks:
        # never scale to a negative value: a too large eta * alpha zeroes w instead
        shrink = 1.0 - (1.0 - s.l1_ratio) * eta * s.alpha
        if shrink < 0.0:
            shrink = 0.0
        o.wscale *= shrink
        o.sq_norm *= shrink * shrink
        o.l1_norm *= shrink
        p_lin *= shrink
        if o.wscale < s.wscale_threshold:
            _reset_wscale(w, aw, d, o)
    if update != 0.0:
        dl1 = _add(w, x, idx, nnz, update / o.wscale, track_l1)
        # ||w + update x||^2 = ||w||^2 + 2 update <w, x> + update^2 ||x||^2
        o.sq_norm += 2.0 * update * p_lin + update * update * xsq
        if o.sq_norm < 0.0:
            o.sq_norm = 0.0
        o.l1_norm += dl1 * o.wscale
    if s.fit_intercept:
        # the one-class SVM's intercept also takes the step of its term alpha * b
        intercept_update = update - eta * s.alpha if s.one_class else update
        if intercept_update != 0.0:
            o.intercept += intercept_update * s.intercept_decay

    if 0 < s.average <= t:
        if update != 0.0:
            _add(aw, x, idx, nnz, -o.avg_a * update / o.wscale, False)
        _advance_average(s, o, t)

    if track_l1:
        o.u += s.l1_ratio * eta * s.alpha
        _l1_truncate(w, q, idx, nnz, o)


cdef inline bint _finite(const floating* w, Py_ssize_t d, double intercept) noexcept nogil:
    cdef Py_ssize_t j
    cdef bint ok = isfinite(intercept)
    for j in range(d):
        ok &= isfinite(w[j])
    return ok
