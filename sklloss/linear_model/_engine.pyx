# The SGD engine: epochs of per-sample stochastic gradient descent over the rows of a
# dense (C-contiguous) or CSR matrix, for K linear outputs at once.
#
# It knows nothing of scikit-learn: it takes arrays and scalars, updates the model
# arrays it is given in place, and returns what happened. The estimators in _sgd.py
# hand it copies, so a failure (divergence, interrupt) leaves their state untouched.
#
# The algorithm is scikit-learn's `_plain_sgd` (sklearn/linear_model/_sgd_fast.pyx.tp),
# so that equal hyperparameters give equal learning dynamics:
# - w is stored as wscale * v: the L2 shrinkage w *= (1 - eta alpha) costs O(1)
#   (Bottou, "Stochastic Gradient Descent Tricks", 2012), v is rescaled when wscale
#   falls below a threshold;
# - averaged SGD keeps the running average as (aw + avg_a v) / avg_b so that a sparse
#   row updates it in O(nnz) (same reference);
# - L1 is the truncated gradient with the cumulative penalty u and the applied
#   penalty q of Tsuruoka, Tsujii and Ananiadou (ACL 2009);
# - learning rates constant, optimal (Bottou's 1 / (alpha (t0 + t))), invscaling,
#   adaptive, and the passive-aggressive steps PA-I / PA-II (Crammer et al., 2006).
#
# What differs from scikit-learn: a dense row is read as a contiguous slice (no index
# array); one read of a row serves all K one-vs-rest outputs (scikit-learn makes K
# passes over X); the K outputs can be split over threads, each thread running the
# same row order, so the result does not depend on the number of threads; the norms
# of the training objective are exact for sparse rows too; signals are checked during
# the epoch; divergence also covers a prediction or loss outside the float type's range
# and an overflowing average; and the loss is a fused (compile-time) type, not a
# virtual call.

from cython cimport floating
from cython.parallel cimport prange
from libc.float cimport DBL_MAX, FLT_MAX
from libc.math cimport INFINITY, fabs, isfinite, pow, sqrt
from libc.stdint cimport int32_t, int64_t, uint32_t
from libc.stdlib cimport free, malloc

import threading

import numpy as np

from sklloss.losses import LOSSES, get_loss

from sklloss.losses._kernels cimport (
    EpsilonInsensitiveParams,
    HingeParams,
    HuberParams,
    LogisticParams,
    ModifiedHuberParams,
    PerceptronParams,
    SquaredEpsilonInsensitiveParams,
    SquaredErrorParams,
    SquaredHingeParams,
    loss_grad_multinomial,
    loss_params_t,
    loss_value_grad,
)

ctypedef fused index_t:
    int32_t
    int64_t

cdef extern from *:
    """
    #if defined(__GNUC__)
    #define SKLLOSS_PREFETCH(p) __builtin_prefetch((const void *)(p), 0, 3)
    #else
    #define SKLLOSS_PREFETCH(p) ((void)0)
    #endif
    """
    void _prefetch "SKLLOSS_PREFETCH"(const void* p) noexcept nogil

cdef extern from "Python.h":
    # Declared without an exception clause: the caller decides what to do.
    int _PyErr_CheckSignals "PyErr_CheckSignals"()

# Penalties and learning rates: the codes scikit-learn's engine uses.
PENALTIES = {"none": 0, "l1": 1, "l2": 2, "elasticnet": 3}
LEARNING_RATES = {"constant": 1, "optimal": 2, "invscaling": 3, "adaptive": 4,
                  "pa1": 5, "pa2": 6}
cdef enum:
    NO_PENALTY = 0
    L1 = 1
    L2 = 2
    ELASTICNET = 3
    CONSTANT = 1
    OPTIMAL = 2
    INVSCALING = 3
    ADAPTIVE = 4
    PA1 = 5
    PA2 = 6

# Element-wise losses the engine runs (names of sklloss.losses).
LOSS_CODES = {"squared_error": 0, "huber": 1, "epsilon_insensitive": 2,
              "squared_epsilon_insensitive": 3, "log_loss": 4, "hinge": 5,
              "perceptron": 6, "squared_hinge": 7, "modified_huber": 8}
# The multinomial loss: the K outputs are one softmax model, trained jointly.
MULTINOMIAL_CODE = 9
LOSS_CODES["multinomial_log_loss"] = MULTINOMIAL_CODE

# Outcome of fit_epochs.
OK = 0
DIVERGED = 1

cdef double MAX_DLOSS = 1e12          # scikit-learn's clip of the loss derivative
# Pending signals (Ctrl-C) are looked at after about this much work: multiply-adds
# (a row's non-zeros times the outputs it updates) plus ROW_COST per row for its
# cache misses and bookkeeping. ~2^23 is a few milliseconds, whatever the shape:
# tall narrow data checks every ~20k rows, a wide row or many classes sooner.
cdef Py_ssize_t SIGNAL_CHECK_WORK = 1 << 23
cdef Py_ssize_t ROW_COST = 256
cdef Py_ssize_t PREFETCH_AHEAD = 4    # rows ahead in the shuffled order


ctypedef struct Settings:
    int penalty
    double alpha
    double l1_ratio
    int learning_rate
    double eta0
    double power_t
    double optimal_init
    bint fit_intercept
    double intercept_decay
    double average          # averaging starts at sample t == average (0: never)
    bint classification     # y holds class codes; output k's positive class is pos_label[k]
    double wscale_threshold
    double float_max        # largest value of the model's float type


ctypedef struct Output:
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


# ---------------------------------------------------------------------------
# Row kernels. A dense row is x[0:d]; a sparse row is (x[0:nnz], idx[0:nnz]).
# ---------------------------------------------------------------------------
cdef extern from *:
    """
    /* Dense dot products, the engine's hottest loop. `omp simd reduction` lets the
       compiler split the sum into vector lanes (it may not reorder one sequential sum
       without -ffast-math; this pragma permits it for this sum only, with
       -fopenmp-simd, and keeps IEEE semantics everywhere else). GCC also compiles an
       AVX2 clone chosen at run time on CPUs that have it; the default clone runs on
       any x86-64. The two differ only in summation order. */
    #if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
    #define SKLLOSS_CLONES __attribute__((target_clones("avx2", "default")))
    #else
    #define SKLLOSS_CLONES
    #endif
    SKLLOSS_CLONES static double sklloss_dot_d(const double *w, const double *x,
                                               Py_ssize_t n) {
        double s = 0.0;
        #pragma omp simd reduction(+:s)
        for (Py_ssize_t j = 0; j < n; j++) s += w[j] * x[j];
        return s;
    }
    SKLLOSS_CLONES static float sklloss_dot_f(const float *w, const float *x,
                                              Py_ssize_t n) {
        float s = 0.0f;
        #pragma omp simd reduction(+:s)
        for (Py_ssize_t j = 0; j < n; j++) s += w[j] * x[j];
        return s;
    }
    SKLLOSS_CLONES static void sklloss_axpy_d(double *w, const double *x, double c,
                                              Py_ssize_t n) {
        for (Py_ssize_t j = 0; j < n; j++) w[j] += x[j] * c;
    }
    SKLLOSS_CLONES static void sklloss_axpy_f(float *w, const float *x, float c,
                                              Py_ssize_t n) {
        for (Py_ssize_t j = 0; j < n; j++) w[j] += x[j] * c;
    }
    """
    double _dot_dense_d "sklloss_dot_d"(const double* w, const double* x,
                                        Py_ssize_t n) noexcept nogil
    float _dot_dense_f "sklloss_dot_f"(const float* w, const float* x,
                                       Py_ssize_t n) noexcept nogil
    void _axpy_dense_d "sklloss_axpy_d"(double* w, const double* x, double c,
                                        Py_ssize_t n) noexcept nogil
    void _axpy_dense_f "sklloss_axpy_f"(float* w, const float* x, float c,
                                        Py_ssize_t n) noexcept nogil


cdef inline double _dot(const floating* w, const floating* x, const index_t* idx,
                        Py_ssize_t nnz) noexcept nogil:
    """<w, x> for a dense row (idx NULL) or a sparse one."""
    cdef Py_ssize_t j
    cdef floating s = 0
    if idx == NULL:
        if floating is double:
            return _dot_dense_d(w, x, nnz)
        else:
            return _dot_dense_f(w, x, nnz)
    for j in range(nnz):
        s += w[idx[j]] * x[j]
    return <double>s


cdef inline double _sqnorm(const floating* x, Py_ssize_t nnz) noexcept nogil:
    """||x||^2 of a row's values."""
    if floating is double:
        return _dot_dense_d(x, x, nnz)
    else:
        return _dot_dense_f(x, x, nnz)


cdef inline double _add(floating* w, const floating* x, const index_t* idx,
                        Py_ssize_t nnz, double c, bint track_l1) noexcept nogil:
    """v += c * x; returns the change of sum |v| when track_l1 (else 0)."""
    cdef Py_ssize_t j
    cdef floating cf = <floating>c
    cdef floating old
    cdef floating dl1 = 0
    if idx == NULL:
        if track_l1:
            for j in range(nnz):
                old = w[j]
                w[j] = old + x[j] * cf
                dl1 += fabs(w[j]) - fabs(old)
        elif floating is double:
            _axpy_dense_d(w, x, cf, nnz)
        else:
            _axpy_dense_f(w, x, cf, nnz)
    else:
        for j in range(nnz):
            old = w[idx[j]]
            w[idx[j]] = old + x[j] * cf
            if track_l1:
                dl1 += fabs(w[idx[j]]) - fabs(old)
    return <double>dl1


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


cdef void _reset_wscale(floating* w, floating* aw, Py_ssize_t d, Output* o) noexcept nogil:
    """Fold wscale (and the averaging factors) into the stored vectors."""
    cdef Py_ssize_t j
    if aw != NULL:
        for j in range(d):
            aw[j] = <floating>((aw[j] + o.avg_a * w[j]) / o.avg_b)
        o.avg_a = 0.0
        o.avg_b = 1.0
    for j in range(d):
        w[j] = <floating>(w[j] * o.wscale)
    o.wscale = 1.0


cdef void _exact_norms(const floating* w, Py_ssize_t d, Output* o) noexcept nogil:
    cdef Py_ssize_t j
    cdef double sq = 0.0, l1 = 0.0
    for j in range(d):
        sq += <double>w[j] * w[j]
        l1 += fabs(<double>w[j])
    o.sq_norm = sq * o.wscale * o.wscale
    o.l1_norm = l1 * o.wscale


# ---------------------------------------------------------------------------
# One SGD step on one row: of one output (scikit-learn's loop body), or of the K
# outputs of a multinomial model together.
# ---------------------------------------------------------------------------
cdef inline double _eta(const Settings* s, const Output* o, double t) noexcept nogil:
    """The learning rate at time step t."""
    if s.learning_rate == OPTIMAL:
        return 1.0 / (s.alpha * (s.optimal_init + t - 1.0))
    elif s.learning_rate == INVSCALING:
        return s.eta0 / pow(t, s.power_t)
    return o.eta


cdef inline double _raw(const Settings* s, Output* o, const floating* w,
                        const floating* x, const index_t* idx, Py_ssize_t nnz,
                        double* p_lin) noexcept nogil:
    """The raw prediction <w, x> + b; stores <w, x> in p_lin."""
    p_lin[0] = _dot(w, x, idx, nnz) * o.wscale
    cdef double p = p_lin[0] + o.intercept
    if not fabs(p) <= s.float_max:  # (NaN too) the model's predictions would overflow
        o.overflow = True
    return p


cdef inline void _add_penalty(const Settings* s, Output* o) noexcept nogil:
    """Adds the penalty of the weights before the step to the objective (after the
    loss, in scikit-learn's order, so that the sums round alike)."""
    if s.learning_rate < PA1 and s.penalty != NO_PENALTY:
        # SGD minimises alpha * ((1 - l1_ratio) / 2 ||w||^2 + l1_ratio ||w||_1)
        o.objective += s.alpha * ((1.0 - s.l1_ratio) * 0.5 * o.sq_norm
                                  + s.l1_ratio * o.l1_norm)


cdef inline void _step(loss_params_t params, const Settings* s, Output* o,
                       floating* w, floating* aw, floating* q, Py_ssize_t d,
                       const floating* x, const index_t* idx, Py_ssize_t nnz,
                       double xsq, double yk, double class_weight, double sample_weight,
                       double t) noexcept nogil:
    cdef double p_lin, p, eta, loss, dloss, update

    p = _raw(s, o, w, x, idx, nnz, &p_lin)
    eta = _eta(s, o, t)
    loss = loss_value_grad(params, yk, p, &dloss)
    o.sumloss += loss
    o.objective += loss
    _add_penalty(s, o)

    if s.learning_rate == PA1:
        # (_epoch skips zero rows under PA-I, so xsq > 0 here)
        update = loss / xsq
        if update > s.eta0:
            update = s.eta0
    elif s.learning_rate == PA2:
        update = loss / (xsq + 0.5 / s.eta0)
    else:
        update = -eta * _clip_dloss(dloss)
    if s.learning_rate >= PA1:
        if s.classification:
            update *= yk
        elif yk - p < 0:
            update = -update
    _apply(s, o, w, aw, q, d, x, idx, nnz, xsq, p_lin, eta,
           update * class_weight * sample_weight, t)


cdef inline void _step_multinomial(const Settings* s, Output* outs, Py_ssize_t K,
                                   floating* coef, floating* avg_coef, floating* q,
                                   Py_ssize_t d, const floating* x, const index_t* idx,
                                   Py_ssize_t nnz, double xsq, Py_ssize_t y,
                                   double weight, double t, double* raw, double* grad,
                                   double* p_lin) noexcept nogil:
    """One step of the K outputs of a softmax model on a row of class y: the K raw
    predictions, then the K derivatives of the categorical cross-entropy (one kernel
    call, in float64 like the other losses' steps), then each output's update. The
    row's loss is counted in outs[0]."""
    cdef Py_ssize_t k
    cdef double eta = _eta(s, &outs[0], t)
    cdef double loss
    for k in range(K):
        raw[k] = _raw(s, &outs[k], coef + k * d, x, idx, nnz, &p_lin[k])
    loss = loss_grad_multinomial(raw, K, y, grad)
    outs[0].sumloss += loss
    outs[0].objective += loss
    for k in range(K):
        _add_penalty(s, &outs[k])
    for k in range(K):
        _apply(s, &outs[k], coef + k * d, avg_coef + k * d if avg_coef != NULL else NULL,
               q + k * d if q != NULL else NULL, d, x, idx, nnz, xsq, p_lin[k], eta,
               -eta * _clip_dloss(grad[k]) * weight, t)


cdef inline double _clip_dloss(double dloss) noexcept nogil:
    # scikit-learn's clip of the loss derivative
    if dloss < -MAX_DLOSS:
        return -MAX_DLOSS
    elif dloss > MAX_DLOSS:
        return MAX_DLOSS
    return dloss


cdef inline void _apply(const Settings* s, Output* o, floating* w, floating* aw,
                        floating* q, Py_ssize_t d, const floating* x, const index_t* idx,
                        Py_ssize_t nnz, double xsq, double p_lin, double eta,
                        double update, double t) noexcept nogil:
    """w += update * x (and b += update), after the L2 shrinkage; then the running
    average and the L1 truncation. p_lin is <w, x> before the step."""
    cdef double shrink, dl1, num_iter, mu
    cdef bint track_l1 = s.penalty == L1 or s.penalty == ELASTICNET
    if s.penalty >= L2:
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
            o.intercept += update * s.intercept_decay

    if 0 < s.average <= t:
        num_iter = t - s.average + 1.0
        mu = 1.0 / num_iter
        if update != 0.0:
            _add(aw, x, idx, nnz, -o.avg_a * update / o.wscale, False)
        if num_iter > 1.0:
            o.avg_b /= 1.0 - mu
        o.avg_a += mu * o.avg_b * o.wscale
        o.avg_intercept += (o.intercept - o.avg_intercept) / num_iter

    if track_l1:
        o.u += s.l1_ratio * eta * s.alpha
        _l1_truncate(w, q, idx, nnz, o)


cdef inline void _prefetch_range(const void* start, Py_ssize_t n_bytes) noexcept nogil:
    """Prefetch every 64-byte cache line of n_bytes from start."""
    cdef const char* p = <const char*>start
    cdef const char* end = p + n_bytes
    while p < end:
        _prefetch(p)
        p += 64


cdef int _check_signals() noexcept with gil:
    return _PyErr_CheckSignals()


cdef int _raise_pending() except -1:
    # An exception (e.g. KeyboardInterrupt) was set by PyErr_CheckSignals.
    return -1


cdef Py_ssize_t _epoch(loss_params_t params, const Settings* s, Output* outs,
                 Py_ssize_t k_begin, Py_ssize_t k_end,
                 floating* coef, floating* avg_coef, floating* q, Py_ssize_t d,
                 const floating* X_data, const index_t* X_indices,
                 const index_t* X_indptr, bint sparse,
                 const floating* y, const floating* sw, const double* pos_label,
                 const double* weight_pos, const double* weight_neg,
                 const Py_ssize_t* order, Py_ssize_t n_rows, double t0,
                 bint check_signals, int* interrupted, double* joint) noexcept nogil:
    """One pass over the rows `order[0:n_rows]` for outputs k_begin..k_end-1.

    `joint` is NULL for independent outputs (one-vs-rest, regression). Otherwise the
    outputs 0..k_end-1 are the classes of one softmax model, trained together on the
    multinomial loss (`params` is then unused; y holds class numbers, weight_pos the
    class weights) and `joint` is scratch space for 3 K doubles.

    Returns the number of rows learned from (all but PA-I's zero rows); the time step
    t advances with them only, as in scikit-learn.
    """
    cdef Py_ssize_t r, i, k, nnz, j, ahead, next_row, yi, learned = 0
    cdef const floating* x
    cdef const index_t* idx = NULL
    cdef double xsq, yk, cw, t
    cdef Output* o
    cdef floating* aw = NULL
    cdef floating* qk = NULL
    cdef Py_ssize_t work = 0
    for r in range(n_rows):
        if work >= SIGNAL_CHECK_WORK:
            work = 0
            if check_signals and _check_signals() != 0:
                interrupted[0] = 1
            if interrupted[0]:
                return learned
        i = order[r]
        # Shuffled rows miss the cache: fetch ahead. Two stages, because a CSR row's
        # address is itself in memory: the far row's label, weight and row pointer
        # first, then the near row's values (and indices).
        ahead = r + 2 * PREFETCH_AHEAD
        if ahead < n_rows:
            next_row = order[ahead]
            _prefetch(y + next_row)
            _prefetch(sw + next_row)
            if sparse:
                _prefetch(X_indptr + next_row)
        ahead = r + PREFETCH_AHEAD
        if ahead < n_rows:
            next_row = order[ahead]
            if sparse:
                nnz = X_indptr[next_row + 1] - X_indptr[next_row]
                _prefetch_range(X_data + X_indptr[next_row], nnz * sizeof(floating))
                _prefetch_range(X_indices + X_indptr[next_row], nnz * sizeof(index_t))
            else:
                _prefetch_range(X_data + next_row * d, d * sizeof(floating))
        if sparse:
            x = X_data + X_indptr[i]
            idx = X_indices + X_indptr[i]
            nnz = X_indptr[i + 1] - X_indptr[i]
        else:
            x = X_data + i * d
            nnz = d
        # ||x||^2, once per row for all outputs: the norm of w is kept up to date
        # from it, and the passive-aggressive steps divide by it
        xsq = _sqnorm(x, nnz)
        work += ROW_COST + nnz * (k_end - k_begin)
        if s.learning_rate == PA1 and xsq == 0.0:
            # scikit-learn skips a zero row entirely under PA-I (t does not advance)
            continue
        t = t0 + learned
        learned += 1
        if joint != NULL:
            yi = <Py_ssize_t>y[i]
            _step_multinomial(s, outs, k_end, coef, avg_coef, q, d, x,
                              idx if sparse else <const index_t*>NULL, nnz, xsq, yi,
                              weight_pos[yi] * sw[i], t, joint, joint + k_end,
                              joint + 2 * k_end)
            continue
        for k in range(k_begin, k_end):
            o = &outs[k]
            if not o.active:
                continue
            if s.classification:
                if y[i] == pos_label[k]:
                    yk = 1.0
                    cw = weight_pos[k]
                else:
                    yk = -1.0
                    cw = weight_neg[k]
            else:
                yk = y[i]
                cw = 1.0
            if avg_coef != NULL:
                aw = avg_coef + k * d
            if q != NULL:
                qk = q + k * d
            _step(params, s, o, coef + k * d, aw, qk, d, x,
                  idx if sparse else <const index_t*>NULL, nnz, xsq, yk, cw, sw[i], t)
    return learned


cdef void _shuffle(Py_ssize_t* order, Py_ssize_t n, uint32_t seed) noexcept nogil:
    """scikit-learn's Fisher-Yates shuffle (SequentialDataset.shuffle), draw for draw.

    Its generator is the xorshift `our_rand_r` of sklearn/utils/_random.pxd, restarted
    from the same seed at every epoch (the permutations compose). Using it gives the
    same row order as scikit-learn for the same random_state.
    """
    cdef Py_ssize_t i, j, tmp
    for i in range(n - 1):
        if seed == 0:
            seed = 1
        seed ^= <uint32_t>(seed << 13)
        seed ^= <uint32_t>(seed >> 17)
        seed ^= <uint32_t>(seed << 5)
        j = i + <Py_ssize_t>((seed & 0x7FFFFFFFU) % <uint32_t>(n - i))
        tmp = order[i]
        order[i] = order[j]
        order[j] = tmp


cdef Py_ssize_t _training_rows(const Py_ssize_t* order, Py_ssize_t n,
                               const unsigned char* validation_mask,
                               Py_ssize_t* train_order) noexcept nogil:
    """The rows of `order` not held out for validation, in that order."""
    cdef Py_ssize_t r, n_train = 0
    for r in range(n):
        if not validation_mask[order[r]]:
            train_order[n_train] = order[r]
            n_train += 1
    return n_train


cdef object _run(int loss_code, double epsilon, Settings* s,
                 floating[:, ::1] coef, double[::1] intercept,
                 floating[:, ::1] avg_coef, double[::1] avg_intercept,
                 const floating[::1] X_data, const index_t[::1] X_indices,
                 const index_t[::1] X_indptr, bint sparse, Py_ssize_t n_features,
                 const floating[::1] y, const floating[::1] sample_weight,
                 const double[::1] pos_label, const double[::1] weight_pos,
                 const double[::1] weight_neg, Py_ssize_t[::1] order,
                 const unsigned char[::1] validation_mask,
                 Py_ssize_t max_iter, double tol, Py_ssize_t n_iter_no_change, bint shuffle,
                 uint32_t seed, double t, object validation_score, int verbose,
                 int n_threads):
    cdef Py_ssize_t K = coef.shape[0], d = n_features, n_all = order.shape[0], n_rows
    cdef Py_ssize_t k, j, g, n_groups, epoch = 0, n_learned, n_active
    cdef int interrupted = 0
    # only the main thread handles signals (PyErr_CheckSignals does nothing elsewhere):
    # a fit in another thread does not take the GIL to look for them
    cdef bint main_thread = threading.current_thread() is threading.main_thread()
    cdef int status = OK
    # without validation rows every row trains: the epoch runs `order` itself
    cdef bint holdout = validation_mask is not None and np.any(np.asarray(validation_mask))
    cdef Py_ssize_t[::1] train_order = np.empty(n_all if holdout else 1, dtype=np.intp)
    cdef Py_ssize_t* rows = &train_order[0] if holdout else &order[0]
    cdef Py_ssize_t[::1] learned = np.zeros(max(K, 1), dtype=np.intp)
    cdef Output* outs = <Output*>malloc(max(K, 1) * sizeof(Output))
    cdef floating* aw = &avg_coef[0, 0] if avg_coef.shape[0] > 0 else NULL
    cdef floating* qp = NULL
    cdef const index_t* ind_ptr = &X_indices[0] if X_indices.shape[0] > 0 else NULL
    cdef const index_t* indptr_ptr = &X_indptr[0] if X_indptr.shape[0] > 0 else NULL
    cdef double objective, score
    cdef bint joint = loss_code == MULTINOMIAL_CODE
    cdef double[::1] joint_scratch = np.zeros(3 * K if joint else 1)
    cdef double* joint_ptr = &joint_scratch[0] if joint else NULL
    cdef Py_ssize_t[::1] n_iter = np.zeros(K, dtype=np.intp)
    cdef Py_ssize_t[::1] no_improvement = np.zeros(K, dtype=np.intp)
    cdef double[::1] best = np.full(K, INFINITY)
    q_arr = None
    if s.penalty == L1 or s.penalty == ELASTICNET:
        q_arr = np.zeros((K, d), dtype=np.asarray(coef).dtype)
        qp = _data(q_arr, coef)
    scratch = None
    if validation_score is not None:
        scratch = np.empty((K, d), dtype=np.asarray(coef).dtype)
    if outs == NULL:
        raise MemoryError()
    # a softmax model's outputs depend on each other at every row: one thread
    n_groups = 1 if joint else max(1, min(n_threads, K))
    objective_curve = []
    score_curve = []
    try:
        for k in range(K):
            outs[k].wscale = 1.0
            outs[k].intercept = intercept[k]
            outs[k].avg_a = 0.0
            outs[k].avg_b = 1.0
            outs[k].avg_intercept = avg_intercept[k] if avg_intercept.shape[0] > 0 else 0.0
            outs[k].u = 0.0
            outs[k].eta = s.eta0
            outs[k].active = True
            outs[k].overflow = False
        for epoch in range(max_iter):
            with nogil:
                for k in range(K):
                    outs[k].sumloss = 0.0
                    outs[k].objective = 0.0
                    if outs[k].active:
                        _exact_norms(&coef[k, 0], d, &outs[k])
                if shuffle:
                    _shuffle(&order[0], n_all, seed)
                n_rows = n_all
                if holdout:
                    n_rows = _training_rows(&order[0], n_all, &validation_mask[0], rows)
                if n_groups == 1:
                    n_learned = _epoch_any(
                           loss_code, epsilon, s, outs, 0, K, &coef[0, 0], aw, qp, d,
                           &X_data[0], ind_ptr, indptr_ptr, sparse, &y[0], &sample_weight[0],
                           &pos_label[0], &weight_pos[0], &weight_neg[0],
                           rows, n_rows, t, main_thread, &interrupted, joint_ptr)
                else:
                    for g in prange(n_groups, num_threads=n_groups, schedule="static",
                                    chunksize=1):
                        learned[g] = _epoch_any(
                               loss_code, epsilon, s, outs, g * K // n_groups,
                               (g + 1) * K // n_groups,
                               &coef[0, 0], aw, qp, d, &X_data[0], ind_ptr, indptr_ptr,
                               sparse, &y[0], &sample_weight[0], &pos_label[0],
                               &weight_pos[0], &weight_neg[0], rows, n_rows,
                               t, main_thread and g == 0, &interrupted, NULL)
                    n_learned = learned[0]  # every group runs the same rows
            if interrupted:
                _raise_pending()
            if _check_signals() != 0:
                _raise_pending()
            t += n_learned

            for k in range(K):
                # diverged: a weight, a prediction or a loss left the float type's
                # range (the model's predictions would overflow too)
                if outs[k].active and (outs[k].overflow or not (
                        _finite(&coef[k, 0], d, outs[k].intercept)
                        and outs[k].sumloss <= s.float_max)):
                    status = DIVERGED
            if status == DIVERGED:
                break

            scores = None
            if validation_score is not None:
                # scikit-learn scores its stored vector v, without the pending L2
                # scale wscale (w = wscale * v), beside the intercept. The callback
                # gets v and the scales, so that it can do the same (early stopping
                # then stops at scikit-learn's epoch: true weights would stop later
                # under the 'optimal' schedule, where wscale decays like 1/t between
                # rescalings) and can also score the true model.
                np.copyto(scratch, np.asarray(coef))
                scores = np.asarray(validation_score(
                    scratch, np.array([outs[k].intercept for k in range(K)]),
                    np.array([outs[k].wscale for k in range(K)])), dtype=float)
                score_curve.append(scores)
            denominator = max(n_learned, 1)
            objective_curve.append(
                np.array([outs[k].objective / denominator for k in range(K)]))
            if verbose > 0 and joint:
                _print_joint_epoch(epoch, &coef[0, 0], K, d, outs, t, n_learned,
                                   None if scores is None else scores[0])
            # the stopping rule, per output; a softmax model's outputs stop together,
            # on their summed objective (its loss is counted in output 0)
            for k in range(1 if joint else K):
                if not outs[k].active:
                    continue
                n_iter[k] = epoch + 1
                if verbose > 0 and not joint:
                    _print_epoch(k, K, epoch, &coef[k, 0], d, &outs[k], t, n_learned,
                                 None if scores is None else scores[k])
                if scores is not None:
                    # larger is better: stop when the score stops improving by tol
                    score = -scores[k]
                elif joint:
                    score = 0.0
                    for j in range(K):
                        score += outs[j].objective
                    score /= denominator
                else:
                    score = outs[k].objective / denominator
                if tol > -INFINITY and score > best[k] - tol:
                    no_improvement[k] += 1
                else:
                    no_improvement[k] = 0
                if score < best[k]:
                    best[k] = score
                if no_improvement[k] >= n_iter_no_change:
                    if s.learning_rate == ADAPTIVE and outs[k].eta > 1e-6:
                        outs[k].eta /= 5.0
                        no_improvement[k] = 0
                    else:
                        outs[k].active = False
                        if verbose > 0:
                            print("Convergence after %d epochs" % (epoch + 1))
            if joint:
                for k in range(1, K):
                    outs[k].active = outs[0].active
                    outs[k].eta = outs[0].eta
                    n_iter[k] = n_iter[0]
            n_active = 0
            for k in range(K):
                n_active += outs[k].active
            if n_active == 0:
                break

        for k in range(K):
            _reset_wscale(&coef[k, 0], aw + k * d if aw != NULL else NULL, d, &outs[k])
            intercept[k] = outs[k].intercept
            if avg_intercept.shape[0] > 0:
                avg_intercept[k] = outs[k].avg_intercept
                # the average can overflow where the weights did not (huge sample
                # weights): its model would be as unusable
                if not _finite(aw + k * d, d, outs[k].avg_intercept):
                    status = DIVERGED
    finally:
        free(outs)
    return {
        "status": status,
        "epoch": epoch + 1,
        "n_iter": np.asarray(n_iter),
        "t": t,
        "objective_curve": objective_curve,
        "score_curve": score_curve,
    }


cdef floating* _data(object array, floating[:, ::1] like):
    """Pointer to the data of a C-contiguous array of `like`'s dtype."""
    cdef floating[:, ::1] view = array
    return &view[0, 0]


cdef bint _finite(const floating* w, Py_ssize_t d, double intercept) noexcept nogil:
    cdef Py_ssize_t j
    cdef bint ok = isfinite(intercept)
    for j in range(d):
        ok &= isfinite(w[j])
    return ok


cdef void _print_epoch(Py_ssize_t k, Py_ssize_t K, Py_ssize_t epoch, const floating* w,
                       Py_ssize_t d, Output* o, double t, Py_ssize_t n_learned,
                       object score):
    cdef Py_ssize_t j, nnz = 0
    for j in range(d):
        nnz += w[j] != 0
    prefix = "" if K == 1 else "Output %d: " % k
    line = ("%sNorm: %.2f, NNZs: %d, Bias: %.6f, T: %d, Avg. loss: %f, Objective: %f"
            % (prefix, sqrt(o.sq_norm), nnz, o.intercept, <long long>(t - 1),
               o.sumloss / max(n_learned, 1), o.objective / max(n_learned, 1)))
    if score is not None:
        line += ", Validation score: %f" % score
    if k == 0:
        print("-- Epoch %d" % (epoch + 1))
    print(line)


cdef void _print_joint_epoch(Py_ssize_t epoch, const floating* coef, Py_ssize_t K,
                             Py_ssize_t d, Output* outs, double t, Py_ssize_t n_learned,
                             object score):
    """The verbose line of a softmax model: its K outputs as one."""
    cdef Py_ssize_t j, k, nnz = 0
    cdef double sq_norm = 0.0, objective = 0.0
    for j in range(K * d):
        nnz += coef[j] != 0
    for k in range(K):
        sq_norm += outs[k].sq_norm
        objective += outs[k].objective
    line = ("Norm: %.2f, NNZs: %d, T: %d, Avg. loss: %f, Objective: %f"
            % (sqrt(sq_norm), nnz, <long long>(t - 1),
               outs[0].sumloss / max(n_learned, 1), objective / max(n_learned, 1)))
    if score is not None:
        line += ", Validation score: %f" % score
    print("-- Epoch %d" % (epoch + 1))
    print(line)


cdef class EngineSettings:
    """The hyperparameters of a fit, checked and converted once.

    The estimators build one per set of hyperparameters and hand it to every
    `fit_epochs` call made with them (a stream of partial_fit calls builds it once).

    Parameters
    ----------
    loss, epsilon : name of an element-wise loss of sklloss.losses and its epsilon, or
        "multinomial_log_loss": then the K outputs are the classes of one softmax
        model, updated together at every row on the categorical cross-entropy; y holds
        class numbers 0..K-1, weight_pos the K class weights, and the outputs stop
        together on their summed objective (or on scores[0]). It runs in one thread.
    classification : y holds class codes (see `fit_epochs`).
    penalty, learning_rate : codes of PENALTIES / LEARNING_RATES.
    alpha, l1_ratio, eta0, power_t, fit_intercept : as in scikit-learn's SGD.
    average : sample count at which averaging starts (0: no averaging).
    tol, n_iter_no_change : the stopping rule (tol = -inf: never stop early).
    shuffle : shuffle the rows before each epoch.
    verbose : print a line per epoch when > 0.
    """
    cdef Settings s
    cdef int loss_code
    cdef double epsilon
    cdef double tol
    cdef Py_ssize_t n_iter_no_change
    cdef bint shuffle
    cdef int verbose

    def __init__(self, str loss, double epsilon, bint classification, int penalty,
                 double alpha, double l1_ratio, int learning_rate, double eta0,
                 double power_t, bint fit_intercept, double average, double tol,
                 Py_ssize_t n_iter_no_change, bint shuffle, int verbose):
        cdef double typw, initial_eta0, g
        if loss not in LOSS_CODES:
            raise ValueError(f"The SGD engine has no loss {loss!r}.")
        self.loss_code = LOSS_CODES[loss]
        self.epsilon = epsilon
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.shuffle = shuffle
        self.verbose = verbose
        self.s.penalty = penalty
        self.s.alpha = alpha
        self.s.l1_ratio = 0.0 if penalty == L2 else (1.0 if penalty == L1 else l1_ratio)
        self.s.learning_rate = learning_rate
        self.s.eta0 = eta0
        self.s.power_t = power_t
        self.s.fit_intercept = fit_intercept
        self.s.average = average
        self.s.classification = classification
        self.s.optimal_init = 0.0
        if learning_rate == OPTIMAL:
            # scikit-learn's heuristic: eta at the first sample is typw / max(1, dloss)
            typw = sqrt(1.0 / sqrt(alpha))
            # (a softmax model's heuristic is that of two classes: the logistic loss)
            g = _loss_object("log_loss" if loss == "multinomial_log_loss" else loss,
                             epsilon).gradient(np.array([1.0]), np.array([-typw]))[0]
            initial_eta0 = typw / max(1.0, g)
            self.s.optimal_init = 1.0 / (initial_eta0 * alpha)


def fit_epochs(EngineSettings settings,
               floating[:, ::1] coef, double[::1] intercept,
               floating[:, ::1] average_coef, double[::1] average_intercept,
               const floating[::1] X_data, const index_t[::1] X_indices,
               const index_t[::1] X_indptr, bint sparse, Py_ssize_t n_features,
               const floating[::1] y, const floating[::1] sample_weight,
               const double[::1] pos_label, const double[::1] weight_pos,
               const double[::1] weight_neg, const unsigned char[::1] validation_mask,
               Py_ssize_t max_iter, uint32_t seed, double t, double intercept_decay,
               object validation_score=None, int n_threads=1):
    """Run up to `max_iter` epochs of SGD for K = coef.shape[0] linear outputs.

    Parameters
    ----------
    settings : the fit's EngineSettings.
    coef : (K, d) array, updated in place; intercept : (K,) float64, idem.
    average_coef, average_intercept : (K, d) and (K,) running averages, updated in
        place; shape (0, d) and (0,) when not averaging.
    X_data, X_indices, X_indptr, sparse : a dense matrix as X.ravel() (indices and
        indptr empty), or a CSR matrix's three arrays.
    y : targets, or class codes when the settings say `classification` (then output
        k's target is +1 where y == pos_label[k] and -1 elsewhere, and
        passive-aggressive steps follow the sign of that target rather than of the
        residual).
    sample_weight : per-row weights; weight_pos / weight_neg : per-output class weights.
    validation_mask : None, or 1 for the rows held out for validation (not learned
        from).
    seed : seed of scikit-learn's shuffle, which this engine reproduces; the rows are
        visited in the order it gives np.arange(n_rows).
    t : the time step of the first sample (1 for a fresh model).
    intercept_decay : factor of the intercept's steps (scikit-learn's 0.01 for CSR).
    validation_score : None, or callable(v (K, d), intercept (K,), wscale (K,)) -> K
        scores (greater is better), called after every epoch; it replaces the training
        objective as the stopping criterion. The weights are wscale[k] * v[k]; v
        alone is what scikit-learn scores.
    n_threads : threads over which the K outputs are split.

    Returns
    -------
    dict with "status" (OK or DIVERGED), "epoch" (epochs run), "n_iter" (epochs each
    output learned), "t" (time step after the last sample), "objective_curve" (per
    epoch, the K mean objectives: mean loss of the rows, each at the weights before
    its step, plus the mean penalty; a softmax model's loss is in output 0) and
    "score_curve" (per epoch, the K scores).
    """
    cdef Settings s = settings.s
    cdef Py_ssize_t n_rows = y.shape[0]
    s.intercept_decay = intercept_decay
    s.wscale_threshold = 1e-6 if floating is float else 1e-9
    s.float_max = FLT_MAX if floating is float else DBL_MAX
    if settings.loss_code == MULTINOMIAL_CODE and (
            coef.shape[0] < 2 or weight_pos.shape[0] != coef.shape[0]):
        raise ValueError("The multinomial loss needs K >= 2 outputs and K class weights.")
    if n_rows == 0 or (validation_mask is not None
                       and validation_mask.shape[0] != n_rows):
        raise ValueError("The SGD engine needs rows to learn from and one mask entry "
                         "per row.")
    cdef Py_ssize_t[::1] order = np.arange(n_rows, dtype=np.intp)
    return _run(settings.loss_code, settings.epsilon, &s, coef, intercept, average_coef,
                average_intercept, X_data, X_indices, X_indptr, sparse, n_features, y,
                sample_weight, pos_label, weight_pos, weight_neg, order, validation_mask,
                max_iter, settings.tol, settings.n_iter_no_change, settings.shuffle,
                seed, t, validation_score, settings.verbose, n_threads)


def _loss_object(str loss, double epsilon):
    """The sklloss.losses object of an engine loss (same kernels, Python side)."""
    if "epsilon" in LOSSES[loss]._parameter_names:
        return get_loss(loss, epsilon=epsilon)
    return get_loss(loss)


cdef Py_ssize_t _epoch_any(int loss_code, double epsilon, const Settings* s, Output* outs,
                     Py_ssize_t k_begin, Py_ssize_t k_end,
                     floating* coef, floating* avg_coef, floating* q, Py_ssize_t d,
                     const floating* X_data, const index_t* X_indices,
                     const index_t* X_indptr, bint sparse,
                     const floating* y, const floating* sw, const double* pos_label,
                     const double* weight_pos, const double* weight_neg,
                     const Py_ssize_t* order, Py_ssize_t n_rows, double t0,
                     bint check_signals, int* interrupted, double* joint) noexcept nogil:
    """_epoch compiled for the loss `loss_code` (one specialisation per loss); returns
    the rows learned from. The multinomial loss runs the K outputs jointly."""
    cdef SquaredErrorParams p_se
    cdef HuberParams p_huber
    cdef EpsilonInsensitiveParams p_ei
    cdef SquaredEpsilonInsensitiveParams p_sei
    cdef LogisticParams p_log
    cdef HingeParams p_hinge
    cdef PerceptronParams p_perc
    cdef SquaredHingeParams p_sqh
    cdef ModifiedHuberParams p_mh
    p_huber.epsilon = epsilon
    p_ei.epsilon = epsilon
    p_sei.epsilon = epsilon
    if loss_code == 0:
        return _epoch(p_se, s, outs, k_begin, k_end, coef, avg_coef, q, d, X_data,
                      X_indices, X_indptr, sparse, y, sw, pos_label, weight_pos,
                      weight_neg, order, n_rows, t0, check_signals, interrupted, NULL)
    elif loss_code == 1:
        return _epoch(p_huber, s, outs, k_begin, k_end, coef, avg_coef, q, d, X_data,
                      X_indices, X_indptr, sparse, y, sw, pos_label, weight_pos,
                      weight_neg, order, n_rows, t0, check_signals, interrupted, NULL)
    elif loss_code == 2:
        return _epoch(p_ei, s, outs, k_begin, k_end, coef, avg_coef, q, d, X_data,
                      X_indices, X_indptr, sparse, y, sw, pos_label, weight_pos,
                      weight_neg, order, n_rows, t0, check_signals, interrupted, NULL)
    elif loss_code == 3:
        return _epoch(p_sei, s, outs, k_begin, k_end, coef, avg_coef, q, d, X_data,
                      X_indices, X_indptr, sparse, y, sw, pos_label, weight_pos,
                      weight_neg, order, n_rows, t0, check_signals, interrupted, NULL)
    elif loss_code == 4:
        return _epoch(p_log, s, outs, k_begin, k_end, coef, avg_coef, q, d, X_data,
                      X_indices, X_indptr, sparse, y, sw, pos_label, weight_pos,
                      weight_neg, order, n_rows, t0, check_signals, interrupted, NULL)
    elif loss_code == 5:
        return _epoch(p_hinge, s, outs, k_begin, k_end, coef, avg_coef, q, d, X_data,
                      X_indices, X_indptr, sparse, y, sw, pos_label, weight_pos,
                      weight_neg, order, n_rows, t0, check_signals, interrupted, NULL)
    elif loss_code == 6:
        return _epoch(p_perc, s, outs, k_begin, k_end, coef, avg_coef, q, d, X_data,
                      X_indices, X_indptr, sparse, y, sw, pos_label, weight_pos,
                      weight_neg, order, n_rows, t0, check_signals, interrupted, NULL)
    elif loss_code == 7:
        return _epoch(p_sqh, s, outs, k_begin, k_end, coef, avg_coef, q, d, X_data,
                      X_indices, X_indptr, sparse, y, sw, pos_label, weight_pos,
                      weight_neg, order, n_rows, t0, check_signals, interrupted, NULL)
    elif loss_code == 8:
        return _epoch(p_mh, s, outs, k_begin, k_end, coef, avg_coef, q, d, X_data,
                      X_indices, X_indptr, sparse, y, sw, pos_label, weight_pos,
                      weight_neg, order, n_rows, t0, check_signals, interrupted, NULL)
    else:
        return _epoch(p_log, s, outs, k_begin, k_end, coef, avg_coef, q, d, X_data,
                      X_indices, X_indptr, sparse, y, sw, pos_label, weight_pos,
                      weight_neg, order, n_rows, t0, check_signals, interrupted, joint)
