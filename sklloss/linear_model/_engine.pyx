# The SGD engine's driver: epochs of per-sample stochastic gradient descent over the
# rows of a dense (C-contiguous) or CSR matrix, for K linear outputs at once.
#
# It knows nothing of scikit-learn, nor of the Python loss layer: it takes a settings
# record (with the loss's kernel code and parameter record), arrays and scalars,
# updates the model arrays it is given in place, and returns what happened. The
# estimators in _sgd.py hand it copies, so a failure (divergence, interrupt) leaves
# their state untouched.
#
# The engine's modules, by job:
#   _rows.pxd      row kernels: dense / CSR dot products, axpy, prefetching
#   _weights.pxd   per-output weight state: scale, average, L1 record; its updates
#   _adaptive.pxd  per-coordinate steps: AdaGrad, normalised AdaGrad
#   _settings.pxd  the hyperparameters' record and codes
#   _steps.pxd     step rules: learning rates, one step of one output or of K
#   _epoch.pxd     the epoch loop and the row order
#   _engine.pyx    this driver: epochs, stopping rules, divergence, signals, verbose
#                  output; the loss is chosen by the one switch of
#                  sklloss/losses/_switch.pxi
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
#   adaptive, and the passive-aggressive steps PA-I / PA-II (Crammer et al., 2006);
# - and two schedules of sklloss's own, with per-coordinate steps (_adaptive.pxd):
#   AdaGrad, and AdaGrad on per-feature normalised updates.
#
# What differs from scikit-learn: a dense row is read as a contiguous slice (no index
# array); one read of a row serves all K one-vs-rest outputs (scikit-learn makes K
# passes over X); the K outputs can be split over threads, each thread running the
# same row order, so the result does not depend on the number of threads (one output
# can have a second thread gather its shuffled rows: _epoch.pxd's Pipeline); the norms
# of the training objective are exact for sparse rows too; signals are checked during
# the epoch; divergence also covers a prediction or loss outside the float type's range
# and an overflowing average; and the loss is a fused (compile-time) type, not a
# virtual call.

from cython cimport floating
from cython.parallel cimport parallel, prange, threadid
from libc.float cimport DBL_MAX, FLT_MAX
from libc.math cimport INFINITY, sqrt
from libc.stdint cimport int32_t, int64_t, uint32_t
from libc.stdlib cimport free, malloc

import threading

import numpy as np

# every loss's code and type, which the switch (_switch.pxi, included below) names;
# and LossParams, grad_by_code, loss_t
from sklloss.losses._kernels cimport *
from sklloss.linear_model._epoch cimport (
    BLOCK_BYTES,
    HAVE_ATOMICS,
    SLOTS,
    Epoch,
    Pipeline,
    _check_signals,
    _epoch,
    _gather,
    _gather_blocks,
    _load_acquire,
    _prefetch_rows,
    _read_rows,
    _shuffle,
    _store_release,
    _team_size,
    _training_rows,
)
from sklloss.linear_model._adaptive cimport Coordinates, _adaptive_flush
from sklloss.linear_model._rows cimport index_t
from sklloss.linear_model._settings cimport (
    ADAGRAD,
    ADAPTIVE,
    ELASTICNET,
    L1,
    L2,
    NO_PENALTY,
    NORMALIZED_ADAGRAD,
    OPTIMAL,
    PA1,
    Settings,
)
from sklloss.linear_model._steps cimport _penalty, _shifted
from sklloss.linear_model._weights cimport Output, _exact_norms, _finite, _reset_wscale

# Penalties and learning rates: the codes of _settings.pxd (scikit-learn's).
PENALTIES = {"none": 0, "l1": 1, "l2": 2, "elasticnet": 3}
LEARNING_RATES = {"constant": 1, "optimal": 2, "invscaling": 3, "adaptive": 4,
                  "pa1": 5, "pa2": 6, "adagrad": 7, "normalized_adagrad": 8}
# The per-coordinate schedules' base step, as a multiple of eta0: at the default
# eta0 = 0.01, 0.1 for 'adagrad' (a coordinate's first step moves it by 0.1, about
# what standardised data's weights need) and 0.5 for 'normalized_adagrad' (Vowpal
# Wabbit's default learning rate, for the same update). benchmarks/adaptive.py
# measures both.
BASE_STEP_PER_ETA0 = {"adagrad": 10.0, "normalized_adagrad": 50.0}

# Outcome of fit_epochs.
OK = 0
DIVERGED = 1


# -- the loss: one epoch, by the shared switch ---------------------------------------
ctypedef Epoch Job

# The float type of X and the model, and the index type of a CSR X: one epoch loop
# (per loss) is compiled for each pair.
ctypedef struct Float32Int32:
    char unused
ctypedef struct Float32Int64:
    char unused
ctypedef struct Float64Int32:
    char unused
ctypedef struct Float64Int64:
    char unused

ctypedef fused precision_t:
    Float32Int32
    Float32Int64
    Float64Int32
    Float64Int64

cdef enum:
    WRONG_OUTPUTS = -2  # a multi-class kernel for single outputs, or the reverse

# A second thread for one output's epoch (n_jobs >= 2, but one group of outputs):
# the Pipeline of _epoch.pxd, for X of PIPELINE_MIN_BYTES or more (smaller, X stays
# in the cache from one epoch to the next, and copying its rows only costs;
# benchmarks/floor.py measures both).
PIPELINE_MIN_BYTES = 1 << 24


cdef Py_ssize_t with_loss(loss_t loss, const precision_t* precision,
                          Epoch* job) noexcept nogil:
    """One epoch of `job` on the loss `loss`: the rows learned from (or WRONG_OUTPUTS)."""
    if loss_t is MultinomialLogLoss:
        if not job.multiclass:
            return WRONG_OUTPUTS
    else:
        if job.multiclass:
            return WRONG_OUTPUTS
    if precision_t is Float32Int32:
        return _epoch(loss, job, <const float*>NULL, <const int32_t*>NULL)
    elif precision_t is Float32Int64:
        return _epoch(loss, job, <const float*>NULL, <const int64_t*>NULL)
    elif precision_t is Float64Int32:
        return _epoch(loss, job, <const double*>NULL, <const int32_t*>NULL)
    else:
        return _epoch(loss, job, <const double*>NULL, <const int64_t*>NULL)


include "../losses/_switch.pxi"


cdef inline Py_ssize_t _run_epoch(int code, const LossParams* params, Epoch* job,
                                  const floating* precision,
                                  const index_t* index_type) noexcept nogil:
    """One epoch of `job` on the loss `code`, compiled for the float type and the
    index type of the fit."""
    if floating is float:
        if index_t is int32_t:
            return switch_loss(code, params, <const Float32Int32*>NULL, job)
        else:
            return switch_loss(code, params, <const Float32Int64*>NULL, job)
    else:
        if index_t is int32_t:
            return switch_loss(code, params, <const Float64Int32*>NULL, job)
        else:
            return switch_loss(code, params, <const Float64Int64*>NULL, job)


cdef inline Py_ssize_t _pipelined_epoch(int code, const LossParams* params,
                                       const Epoch* job, Pipeline* p,
                                       const Py_ssize_t* identity,
                                       const floating* precision,
                                       const index_t* index_type) noexcept nogil:
    """The epoch's thread of a Pipeline: `job`'s epoch, block by block, each on its
    gathered copy or on X (the same rows in the same order, the same steps: the
    result of `job`'s epoch, bit for bit). Returns the rows learned from (or a loss
    error); marks the pipeline stopped."""
    cdef Epoch block = job[0]
    cdef Py_ssize_t b, slot, begin, got, learned = 0
    for b in range(p.n_blocks):
        begin = b * p.block_rows
        slot = b % SLOTS
        if _load_acquire(&p.ready[slot]) == b + 1:  # (gathered)
            block.order = identity
            block.X_data = <floating*>p.values + slot * p.slot_values
            if job.sparse:
                block.X_indices = <index_t*>p.indices + slot * p.slot_values
                block.X_indptr = <index_t*>p.indptr + slot * (p.block_rows + 1)
        else:
            block.order = job.order + begin
            block.X_data = job.X_data
            block.X_indices = job.X_indices
            block.X_indptr = job.X_indptr
        block.y = <const floating*>job.y + begin
        if job.sw != NULL:
            block.sw = <const floating*>job.sw + begin
        block.n_rows = min(p.block_rows, p.n_rows - begin)
        block.t0 = job.t0 + learned
        got = _run_epoch(code, params, &block, precision, index_type)
        if got < 0:
            learned = got
            break
        learned += got
        _store_release(&p.consumed, b + 1)
        if job.interrupted[0]:
            break
    _store_release(&p.stop, 1)
    return learned


cdef Py_ssize_t _prefetch_distance(const floating[::1] X_data, const index_t[::1] X_indices,
                                   Py_ssize_t n_rows, bint sparse, Py_ssize_t d):
    """The rows to prefetch ahead in X's shuffled rows (_prefetch_rows: from a row's
    bytes, for a CSR matrix on average and with its row pointer)."""
    if not sparse:
        return _prefetch_rows(d * sizeof(floating))
    return _prefetch_rows((X_data.shape[0] * sizeof(floating)
                           + X_indices.shape[0] * sizeof(index_t)) // max(n_rows, 1)
                          + sizeof(index_t))


cdef int _raise_pending() except -1:
    # An exception (e.g. KeyboardInterrupt) was set by PyErr_CheckSignals.
    return -1


# -- the driver ------------------------------------------------------------------------
cdef object _run(EngineSettings settings, Settings* s,
                 floating[:, ::1] coef, double[::1] intercept,
                 floating[:, ::1] avg_coef, double[::1] avg_intercept,
                 const floating[::1] X_data, const index_t[::1] X_indices,
                 const index_t[::1] X_indptr, bint sparse, Py_ssize_t n_features,
                 const floating[::1] y, const floating[::1] sample_weight,
                 const double[::1] pos_label, const double[::1] weight_pos,
                 const double[::1] weight_neg, Py_ssize_t[::1] order,
                 const unsigned char[::1] validation_mask,
                 Py_ssize_t max_iter, uint32_t seed, double t, object validation_score,
                 int n_threads, object step_state):
    cdef Py_ssize_t K = coef.shape[0], d = n_features, n_all = order.shape[0], n_rows
    cdef Py_ssize_t k, j, g, n_groups, epoch = 0, n_learned, n_active
    cdef double tol = settings.tol
    cdef Py_ssize_t n_iter_no_change = settings.n_iter_no_change
    cdef bint shuffle = settings.shuffle
    cdef int verbose = settings.verbose
    cdef int code = settings.kernel
    cdef LossParams params = settings.params
    # a multi-class loss's K outputs are one model, trained together
    cdef bint multiclass = settings.multiclass
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
    cdef double[::1] scratch_array = np.zeros(3 * K if multiclass else 1)
    cdef Epoch* jobs = NULL
    cdef Py_ssize_t[::1] n_iter = np.zeros(K, dtype=np.intp)
    cdef Py_ssize_t[::1] no_improvement = np.zeros(K, dtype=np.intp)
    cdef double[::1] best = np.full(K, INFINITY)
    cdef bint per_coordinate = s.learning_rate >= ADAGRAD
    cdef Coordinates coordinates
    cdef double[:, ::1] root, inv_scale, last, sums
    coordinates.root = coordinates.inv_scale = coordinates.last = coordinates.buffer = NULL
    cdef double[::1] buffers
    cdef Py_ssize_t longest = 0
    if per_coordinate:
        root, inv_scale, sums = step_state
        if (root.shape[0] != K or root.shape[1] != d or sums.shape[0] != K
                or sums.shape[1] != 3 or (s.learning_rate == NORMALIZED_ADAGRAD and (
                    inv_scale.shape[0] != K or inv_scale.shape[1] != d))):
            raise ValueError("The per-coordinate state does not match the model's shape.")
        coordinates.root = &root[0, 0]
        if s.learning_rate == NORMALIZED_ADAGRAD:
            coordinates.inv_scale = &inv_scale[0, 0]
        if sparse and s.penalty != NO_PENALTY:
            # (nothing pending: every row before t has had its penalty; dense rows
            # share one such time per output, Output.penalised_until)
            last = np.full((K, d), t - 1.0)
            coordinates.last = &last[0, 0]
        if sparse:
            longest = int(np.diff(np.asarray(X_indptr)).max())
    # the targets and weights in the epoch's row order (_gather); unit weights are
    # not read at all
    cdef bint unit_weights = bool(np.all(np.asarray(sample_weight) == 1.0))
    y_array = np.asarray(y)
    cdef floating[::1] y_in_order = np.empty(n_all, dtype=y_array.dtype)
    cdef floating[::1] sw_in_order = np.empty(1 if unit_weights else n_all,
                                              dtype=y_array.dtype)
    q_arr = None
    if not per_coordinate and (s.penalty == L1 or s.penalty == ELASTICNET):
        q_arr = np.zeros((K, d), dtype=np.asarray(coef).dtype)
        qp = _data(q_arr, coef)
    scratch = None
    if validation_score is not None:
        scratch = np.empty((K, d), dtype=np.asarray(coef).dtype)
    # a multi-class model's outputs depend on each other at every row: one thread
    n_groups = 1 if multiclass else max(1, min(n_threads, K))
    # one group, and a thread to spare: the rows are gathered in a second thread
    # (Pipeline), for X large enough to gain from it
    cdef Py_ssize_t x_bytes = X_data.shape[0] * sizeof(floating) + (
        X_indices.shape[0] * sizeof(index_t) if sparse else 0)
    cdef bint pipelined = (HAVE_ATOMICS and n_groups == 1 and n_threads >= 2
                           and x_bytes >= PIPELINE_MIN_BYTES)
    cdef Pipeline pipeline
    cdef Py_ssize_t distance = _prefetch_distance(X_data, X_indices, X_indptr.shape[0] - 1,
                                                  sparse, d)
    pipeline.prefetch_rows = distance
    cdef Py_ssize_t row_values = 1, value_bytes = sizeof(floating) + (
        sizeof(index_t) if sparse else 0)
    pipeline.block_rows = pipeline.slot_values = 1
    if pipelined:
        # a slot holds block_rows of the longest rows
        row_values = d if not sparse else max(1, int(np.diff(np.asarray(X_indptr)).max()))
        pipeline.block_rows = max(1, BLOCK_BYTES // (row_values * value_bytes))
        pipeline.slot_values = pipeline.block_rows * row_values
        # (CSR rows far longer than the others would make the slots as large as X)
        pipelined = SLOTS * pipeline.slot_values * value_bytes <= x_bytes // 4
    block_values = np.empty(SLOTS * pipeline.slot_values if pipelined else 1,
                            dtype=np.asarray(coef).dtype)
    index_dtype = np.asarray(X_indices).dtype
    cdef index_t[::1] block_indices = np.empty(
        SLOTS * pipeline.slot_values if pipelined and sparse else 1, dtype=index_dtype)
    cdef index_t[::1] block_indptr = np.empty(
        SLOTS * (pipeline.block_rows + 1) if pipelined and sparse else 1, dtype=index_dtype)
    cdef floating[::1] block_values_view = block_values
    cdef Py_ssize_t[::1] identity = np.arange(pipeline.block_rows if pipelined else 1,
                                              dtype=np.intp)
    cdef Py_ssize_t[::1] work = np.zeros(n_groups, dtype=np.intp)
    if pipelined:
        pipeline.values = &block_values_view[0]
        pipeline.indices = &block_indices[0] if sparse else NULL
        pipeline.indptr = &block_indptr[0] if sparse else NULL
    # (a buffer per thread for the sparse rows of the per-coordinate schedules)
    buffers = np.empty(n_groups * 5 * (longest + 1) if per_coordinate and sparse else 1)
    jobs = <Epoch*>malloc(n_groups * sizeof(Epoch))
    if outs == NULL or jobs == NULL:
        free(outs)
        free(jobs)
        raise MemoryError()
    for g in range(n_groups):
        # group g updates outputs k_begin..k_end-1, all groups the same rows
        jobs[g].s = s
        jobs[g].outs = outs
        jobs[g].k_begin = g * K // n_groups
        jobs[g].k_end = (g + 1) * K // n_groups
        jobs[g].multiclass = multiclass
        jobs[g].coef = &coef[0, 0]
        jobs[g].avg_coef = aw
        jobs[g].q = qp
        jobs[g].coordinates = coordinates
        if per_coordinate and sparse:
            jobs[g].coordinates.buffer = &buffers[g * 5 * (longest + 1)]
        jobs[g].d = d
        jobs[g].X_data = &X_data[0]
        jobs[g].X_indices = ind_ptr
        jobs[g].X_indptr = indptr_ptr
        jobs[g].sparse = sparse
        jobs[g].y = &y_in_order[0]
        jobs[g].sw = &sw_in_order[0] if not unit_weights else NULL
        jobs[g].pos_label = &pos_label[0]
        jobs[g].weight_pos = &weight_pos[0]
        jobs[g].weight_neg = &weight_neg[0]
        jobs[g].order = rows
        jobs[g].check_signals = main_thread and g == 0
        jobs[g].interrupted = &interrupted
        jobs[g].scratch = &scratch_array[0] if multiclass else NULL
        jobs[g].work = &work[g]
        jobs[g].prefetch_rows = distance
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
            outs[k].root_intercept = sums[k, 0] if per_coordinate else 0.0
            outs[k].penalised_until = t - 1.0
            outs[k].weight_sum = sums[k, 1] if per_coordinate else 0.0
            outs[k].norm_sum = sums[k, 2] if per_coordinate else 0.0
            outs[k].step = s.base_step
            if s.learning_rate == NORMALIZED_ADAGRAD and outs[k].norm_sum > 0.0:
                outs[k].step = s.base_step * sqrt(outs[k].weight_sum / outs[k].norm_sum)
        for epoch in range(max_iter):
            with nogil:
                for k in range(K):
                    outs[k].sumloss = 0.0
                    outs[k].objective = 0.0
                    # (the per-coordinate schedules need them at the epoch's end only)
                    if outs[k].active and not per_coordinate:
                        _exact_norms(&coef[k, 0], d, NULL, &outs[k])
                if shuffle:
                    _shuffle(&order[0], n_all, seed)
                n_rows = n_all
                if holdout:
                    n_rows = _training_rows(&order[0], n_all, &validation_mask[0], rows)
                _gather(rows, n_rows, &y[0], &y_in_order[0])
                if not unit_weights:
                    _gather(rows, n_rows, &sample_weight[0], &sw_in_order[0])
                for g in range(n_groups):
                    jobs[g].n_rows = n_rows
                    jobs[g].t0 = t
                if pipelined:
                    pipeline.order = rows
                    pipeline.n_rows = n_rows
                    pipeline.n_blocks = (n_rows + pipeline.block_rows - 1) // pipeline.block_rows
                    pipeline.consumed = pipeline.stop = 0
                    for j in range(SLOTS):
                        pipeline.ready[j] = 0
                    with parallel(num_threads=2):
                        if threadid() == 0:
                            if _team_size() < 2:
                                # (no second thread after all: the plain epoch)
                                learned[0] = _run_epoch(code, &params, &jobs[0],
                                                        <floating*>NULL, <index_t*>NULL)
                            else:
                                learned[0] = _pipelined_epoch(
                                    code, &params, &jobs[0], &pipeline, &identity[0],
                                    <floating*>NULL, <index_t*>NULL)
                        else:
                            _gather_blocks(&pipeline, &X_data[0], ind_ptr, indptr_ptr,
                                           sparse, d)
                    n_learned = learned[0]
                elif n_groups == 1:
                    n_learned = _run_epoch(code, &params, &jobs[0], <floating*>NULL,
                                           <index_t*>NULL)
                else:
                    for g in prange(n_groups, num_threads=n_groups, schedule="static",
                                    chunksize=1):
                        learned[g] = _run_epoch(code, &params, &jobs[g], <floating*>NULL,
                                                <index_t*>NULL)
                    n_learned = learned[0]  # every group runs the same rows
                    for g in range(n_groups):
                        if learned[g] < 0:
                            n_learned = learned[g]
            if n_learned < 0:
                raise ValueError(
                    "The SGD engine has no loss kernel with the code %d%s." % (
                        code, "" if n_learned == UNKNOWN_LOSS else
                        " for %s outputs" % ("multi-class" if multiclass else "single")))
            if interrupted:
                _raise_pending()
            if _check_signals() != 0:
                _raise_pending()
            t += n_learned
            if per_coordinate:
                # the penalty the rows' absent coordinates have pending
                for k in range(K):
                    if outs[k].active:
                        _adaptive_flush(s, &outs[k], &coef[k, 0],
                                        aw + k * d if aw != NULL else NULL,
                                        _shifted(coordinates, k * d), d, t)
                        # the objective's penalty: that of the epoch's final weights
                        # (the rows' steps do not keep the norms up to date)
                        _exact_norms(&coef[k, 0], d, _shifted(coordinates, k * d).inv_scale,
                                     &outs[k])
                        outs[k].objective += n_learned * _penalty(s, &outs[k])

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
            # the stopping rule, per output; a multi-class model's outputs stop
            # together, on their summed objective (its loss is counted in output 0)
            for k in range(1 if multiclass else K):
                if not outs[k].active:
                    continue
                n_iter[k] = epoch + 1
                if verbose > 0:
                    # (a multi-class model: its K outputs as one)
                    _print_epoch(epoch, "" if K == 1 or multiclass else "Output %d: " % k,
                                 &coef[k, 0], K * d if multiclass else d, &outs[k],
                                 K if multiclass else 1, not multiclass, t, n_learned,
                                 None if scores is None else scores[k], k == 0)
                if scores is not None:
                    # larger is better: stop when the score stops improving by tol
                    score = -scores[k]
                elif multiclass:
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
            if multiclass:
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
            if per_coordinate:
                sums[k, 0] = outs[k].root_intercept
                sums[k, 1] = outs[k].weight_sum
                sums[k, 2] = outs[k].norm_sum
            if avg_intercept.shape[0] > 0:
                avg_intercept[k] = outs[k].avg_intercept
                # the average can overflow where the weights did not (huge sample
                # weights): its model would be as unusable
                if not _finite(aw + k * d, d, outs[k].avg_intercept):
                    status = DIVERGED
    finally:
        free(outs)
        free(jobs)
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


cdef void _print_epoch(Py_ssize_t epoch, str prefix, const floating* w, Py_ssize_t n_weights,
                       const Output* outs, Py_ssize_t n_outs, bint bias, double t,
                       Py_ssize_t n_learned, object score, bint header):
    """The verbose line of one output, or of a multi-class model's n_outs outputs as
    one (its loss is counted in outs[0]); `header`: the epoch's first line."""
    cdef Py_ssize_t j, k, nnz = 0
    cdef double sq_norm = 0.0, objective = 0.0
    for j in range(n_weights):
        nnz += w[j] != 0
    for k in range(n_outs):
        sq_norm += outs[k].sq_norm
        objective += outs[k].objective
    line = "%sNorm: %.2f, NNZs: %d, " % (prefix, sqrt(sq_norm), nnz)
    if bias:
        line += "Bias: %.6f, " % outs[0].intercept
    line += ("T: %d, Avg. loss: %f, Objective: %f"
             % (<long long>(t - 1), outs[0].sumloss / max(n_learned, 1),
                objective / max(n_learned, 1)))
    if score is not None:
        line += ", Validation score: %f" % score
    if header:
        print("-- Epoch %d" % (epoch + 1))
    print(line)


cdef class EngineSettings:
    """The hyperparameters of a fit, checked and converted once.

    The estimators build one per set of hyperparameters and hand it to every
    `fit_epochs` call made with them (a stream of partial_fit calls builds it once).

    Parameters
    ----------
    kernel, epsilon, quantile, power : the loss's kernel code
        (sklloss.losses._kernels.LossCode) and its parameter record (LossParams'
        fields), as a loss of sklloss.losses declares them (``loss.kernel``,
        ``loss.kernel_params()``).
    multiclass : the loss is multi-class (``loss.is_multiclass``): then the K outputs
        are the classes of one model, updated together at every row (the multinomial
        loss: the categorical cross-entropy of their softmax); y holds class numbers
        0..K-1, a row of class y weighs weight_pos[y], and the outputs stop together on
        their summed objective (or on scores[0]). It runs in one thread.
    classification : y holds class codes (see `fit_epochs`).
    penalty, learning_rate : codes of PENALTIES / LEARNING_RATES.
    alpha, l1_ratio, eta0, power_t, fit_intercept : as in scikit-learn's SGD.
    average : sample count at which averaging starts (0: no averaging).
    tol, n_iter_no_change : the stopping rule (tol = -inf: never stop early).
    shuffle : shuffle the rows before each epoch.
    verbose : print a line per epoch when > 0.
    one_class : the one-class SVM (scikit-learn's SGDOneClassSVM, alpha = nu): one
        binary output, every row of the positive class, whose intercept b = 1 - offset
        is penalised by alpha b: the objective adds alpha b at each row, and b takes
        the step -eta alpha at each row besides the loss's.
    """
    cdef Settings s
    cdef int kernel
    cdef LossParams params
    cdef bint multiclass
    cdef double tol
    cdef Py_ssize_t n_iter_no_change
    cdef bint shuffle
    cdef int verbose

    def __init__(self, int kernel, double epsilon, double quantile, double power,
                 bint multiclass, bint classification, int penalty, double alpha,
                 double l1_ratio, int learning_rate, double eta0, double power_t,
                 bint fit_intercept, double average, double tol,
                 Py_ssize_t n_iter_no_change, bint shuffle, int verbose,
                 bint one_class=False):
        cdef double typw, initial_eta0, g
        cdef int heuristic_kernel
        self.kernel = kernel
        self.params.epsilon = epsilon
        self.params.quantile = quantile
        self.params.power = power
        self.multiclass = multiclass
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.shuffle = shuffle
        self.verbose = verbose
        self.s.penalty = penalty
        self.s.alpha = alpha
        self.s.l1_ratio = 0.0 if penalty == L2 else (1.0 if penalty == L1 else l1_ratio)
        self.s.learning_rate = learning_rate
        self.s.eta0 = eta0
        self.s.base_step = eta0 * (
            BASE_STEP_PER_ETA0["adagrad"] if learning_rate == ADAGRAD
            else BASE_STEP_PER_ETA0["normalized_adagrad"] if learning_rate == NORMALIZED_ADAGRAD
            else 0.0)
        self.s.l1_strength = alpha * self.s.l1_ratio if penalty != 0 else 0.0
        self.s.l2_strength = alpha * (1.0 - self.s.l1_ratio) if penalty != 0 else 0.0
        self.s.power_t = power_t
        self.s.fit_intercept = fit_intercept
        self.s.average = average
        self.s.classification = classification
        if one_class and (multiclass or not classification or learning_rate >= PA1):
            raise ValueError("The one-class problem is a binary one of steps 'constant', "
                             "'optimal', 'invscaling' or 'adaptive'.")
        self.s.one_class = one_class
        self.s.optimal_init = 0.0
        if learning_rate == OPTIMAL:
            # scikit-learn's heuristic: eta at the first sample is typw / max(1, dloss)
            typw = sqrt(1.0 / sqrt(alpha))
            # (a multi-class model's heuristic is that of two classes: for the
            # multinomial loss, the logistic loss)
            heuristic_kernel = LOG_LOSS if kernel == MULTINOMIAL_LOG_LOSS else kernel
            if grad_by_code(heuristic_kernel, &self.params, 1.0, -typw, &g) != 0:
                raise ValueError(f"The SGD engine has no element-wise loss kernel with "
                                 f"the code {heuristic_kernel}.")
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
               object validation_score=None, int n_threads=1, object step_state=None,
               double step_scale=1.0):
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
    sample_weight : per-row weights; weight_pos / weight_neg : per output, the weight
        of the rows of its positive class and of the others (a multi-class loss: the
        K class weights, and weight_neg unused).
    validation_mask : None, or 1 for the rows held out for validation (not learned
        from).
    seed : seed of scikit-learn's shuffle, which this engine reproduces; the rows are
        visited in the order it gives np.arange(n_rows).
    t : the time step of the first sample (1 for a fresh model).
    intercept_decay : factor of the intercept's steps (scikit-learn's 0.01 for CSR).
    step_scale : factor of the learning rate (of every schedule but the per-coordinate
        ones): the loss's ``step_scale`` (1 but for the log-link losses).
    validation_score : None, or callable(v (K, d), intercept (K,), wscale (K,)) -> K
        scores (greater is better), called after every epoch; it replaces the training
        objective as the stopping criterion. The weights are wscale[k] * v[k]; v
        alone is what scikit-learn scores.
    n_threads : threads over which the K outputs are split.
    step_state : for the per-coordinate schedules ('adagrad', 'normalized_adagrad'),
        the tuple (root, inv_scale, sums) of float64 arrays updated in place: (K, d)
        roots of the sums of squared gradients, (K, d) inverse feature scales 1 / s_j
        (inf: not seen yet; 'normalized_adagrad' only, else any array), and (K, 3) per
        output: the root of the intercept's sum of squared gradients, the rows' summed
        weight T and their summed normalised squared norms N ('normalized_adagrad').
        Fresh: zeros, inf.

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
    if not step_scale > 0.0 or step_scale == INFINITY:
        raise ValueError(f"step_scale must be a finite number > 0; got {step_scale}.")
    s.step_scale = step_scale
    s.wscale_threshold = 1e-6 if floating is float else 1e-9
    s.float_max = FLT_MAX if floating is float else DBL_MAX
    if settings.multiclass and (coef.shape[0] < 2 or weight_pos.shape[0] != coef.shape[0]):
        raise ValueError("A multi-class loss needs K >= 2 outputs and K class weights.")
    if n_rows == 0 or (validation_mask is not None
                       and validation_mask.shape[0] != n_rows):
        raise ValueError("The SGD engine needs rows to learn from and one mask entry "
                         "per row.")
    cdef Py_ssize_t[::1] order = np.arange(n_rows, dtype=np.intp)
    return _run(settings, &s, coef, intercept, average_coef, average_intercept, X_data,
                X_indices, X_indptr, sparse, n_features, y, sample_weight, pos_label,
                weight_pos, weight_neg, order, validation_mask, max_iter, seed, t,
                validation_score, n_threads, step_state)


def read_rows(const floating[::1] X_data, const index_t[::1] X_indices,
              const index_t[::1] X_indptr, bint sparse, Py_ssize_t n_features,
              const Py_ssize_t[::1] order):
    """Read the rows `order` of X (arrays as `fit_epochs` takes them) once, in that
    order, with the epoch's prefetching, and nothing else: the floor of an epoch in
    that order (benchmarks/floor.py times it). Returns the sum of the values read
    (and of a CSR matrix's indices)."""
    cdef const index_t* ind_ptr = &X_indices[0] if X_indices.shape[0] > 0 else NULL
    cdef const index_t* indptr_ptr = &X_indptr[0] if X_indptr.shape[0] > 0 else NULL
    cdef Py_ssize_t n = order.shape[0]
    cdef double total
    cdef Py_ssize_t n_rows = X_indptr.shape[0] - 1 if sparse else (
        X_data.shape[0] // n_features if n_features > 0 else 0)
    if sparse and n_rows < 0:
        raise ValueError("A CSR matrix needs its indptr.")
    order_array = np.asarray(order)
    if n == 0 or order_array.min() < 0 or order_array.max() >= n_rows:
        raise ValueError(f"order must hold row numbers of X, in [0, {n_rows}).")
    cdef Py_ssize_t distance = _prefetch_distance(X_data, X_indices, n_rows, sparse,
                                                  n_features)
    with nogil:
        total = _read_rows(&order[0], n, &X_data[0], ind_ptr, indptr_ptr, sparse,
                           n_features, distance)
    return total
