# The SGD engine's driver: epochs of per-sample stochastic gradient descent over the
# rows of a dense (C-contiguous) or CSR matrix, for a list of models at once, each
# with its own hyperparameters and state, all on the same rows in the same order
# (the K one-vs-rest outputs of an estimator, or a search's candidates).
#
# It knows nothing of scikit-learn, nor of the Python loss layer: it takes named
# records (ModelSettings per model, with the loss's kernel code and parameter record;
# TrainingData, ModelArrays, RunSettings), updates the model arrays it is given in
# place, and returns what happened. The estimators in _sgd.py hand it copies, so a
# failure (divergence, interrupt) leaves their state untouched.
#
# The driver in pieces: _fit (the models' records and outputs: _start_outputs),
# _plan_passes (the passes over the rows and their jobs), _epochs (the epoch loop:
# row order, passes, threads), _end_epoch (divergence, curves, stopping rules, the
# jobs' models that go on) and _write_back.
#
# The engine's modules, by job:
#   _rows.pxd      row kernels: dense / CSR dot products, axpy, prefetching
#   _weights.pxd   per-output weight state: scale, average, L1 record; its updates
#   _adaptive.pxd  per-coordinate steps: AdaGrad, normalised AdaGrad
#   _settings.pxd  a model's hyperparameters: the record and its codes
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
# array); one read of a row serves all the models of a pass (scikit-learn makes K
# passes over X for K one-vs-rest outputs); the models can be split over threads, each
# thread running the same row order, so the result does not depend on the number of
# threads, nor on which other models share the fit (one output
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
from libc.stdlib cimport calloc, free, malloc

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
from sklloss.linear_model._adaptive cimport _adaptive_flush
from sklloss.linear_model._rows cimport index_t
from sklloss.linear_model._settings cimport (
    ADAGRAD,
    ADAPTIVE,
    CONSTANT,
    ELASTICNET,
    INVSCALING,
    L1,
    L2,
    NO_PENALTY,
    NORMALIZED_ADAGRAD,
    OPTIMAL,
    PA1,
    PA2,
    Settings,
)
from sklloss.linear_model._steps cimport _penalty
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

# What a one-class model must be (ModelSettings and fit_epochs refuse any other).
ONE_CLASS_PROBLEM = ("The one-class problem is a binary one of steps 'constant', "
                     "'optimal', 'invscaling' or 'adaptive'.")

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
    NOT_RUN = -3        # a job none of whose models is still learning

# A second thread for one output's epoch (n_jobs >= 2, but one group of outputs):
# the Pipeline of _epoch.pxd, for X of PIPELINE_MIN_BYTES or more (smaller, X stays
# in the cache from one epoch to the next, and copying its rows only costs;
# benchmarks/floor.py measures both).
PIPELINE_MIN_BYTES = 1 << 24
# The weights that the models of one job over CSR rows may have (see _epochs).
SPARSE_JOB_BYTES = 1 << 20


def sparse_models_per_job(Py_ssize_t model_bytes):
    """How many models of model_bytes of weights each one job over CSR rows holds."""
    return max(1, SPARSE_JOB_BYTES // max(1, model_bytes))


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


cdef inline Py_ssize_t _job_epoch(const Epoch* job, const floating* precision,
                                  const index_t* index_type) noexcept nogil:
    """One epoch of `job` on its models' loss, compiled for the float type and the
    index type of the fit; NOT_RUN when none of its models is still learning."""
    if job.n_models == 0:
        return NOT_RUN
    # (the loss's parameters: each model's own, which _epoch sets)
    cdef const LossParams* params = &job.outs[job.models[0]].s.params
    if floating is float:
        if index_t is int32_t:
            return switch_loss(job.kernel, params, <const Float32Int32*>NULL, <Epoch*>job)
        else:
            return switch_loss(job.kernel, params, <const Float32Int64*>NULL, <Epoch*>job)
    else:
        if index_t is int32_t:
            return switch_loss(job.kernel, params, <const Float64Int32*>NULL, <Epoch*>job)
        else:
            return switch_loss(job.kernel, params, <const Float64Int64*>NULL, <Epoch*>job)


cdef inline Py_ssize_t _pipelined_epoch(const Epoch* job, Pipeline* p,
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
        got = _job_epoch(&block, precision, index_type)
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


# -- the records a fit is described by --------------------------------------------------
cdef int _penalty_parts(int penalty, Settings* s) except -1:
    """The parts of the penalty `penalty` (a code of PENALTIES) in s's flags."""
    if penalty == NO_PENALTY:
        s.shrinks, s.tracks_l1 = False, False
    elif penalty == L1:
        s.shrinks, s.tracks_l1 = False, True
    elif penalty == L2:
        s.shrinks, s.tracks_l1 = True, False
    elif penalty == ELASTICNET:
        s.shrinks, s.tracks_l1 = True, True
    else:
        raise ValueError(f"The SGD engine has no penalty with the code {penalty}.")
    return 0


cdef int _schedule_kind(int learning_rate, Settings* s) except -1:
    """The kind of the schedule `learning_rate` (a code of LEARNING_RATES) in s's flags."""
    s.per_coordinate = s.passive_aggressive = s.skips_zero_rows = False
    if (learning_rate == CONSTANT or learning_rate == OPTIMAL
            or learning_rate == INVSCALING or learning_rate == ADAPTIVE):
        pass
    elif learning_rate == PA1:
        s.passive_aggressive = s.skips_zero_rows = True
    elif learning_rate == PA2:
        s.passive_aggressive = True
    elif learning_rate == ADAGRAD or learning_rate == NORMALIZED_ADAGRAD:
        s.per_coordinate = True
    else:
        raise ValueError(f"The SGD engine has no learning rate with the code {learning_rate}.")
    return 0


cdef class ModelSettings:
    """The hyperparameters of one model, checked and converted once (keywords only).

    The estimators build one per set of hyperparameters and hand it to every
    `fit_epochs` call made with them (a stream of partial_fit calls builds it once);
    a fit of several models takes one per model.

    Parameters
    ----------
    kernel, epsilon, quantile, power : the loss's kernel code
        (sklloss.losses._kernels.LossCode) and its parameter record (LossParams'
        fields), as a loss of sklloss.losses declares them (``loss.kernel``,
        ``loss.kernel_params()``).
    multiclass : the loss is multi-class (``loss.is_multiclass``): then the model is
        `TrainingData.n_classes` outputs, the classes of one model, updated together
        at every row (the multinomial loss: the categorical cross-entropy of their
        softmax); y holds class numbers 0..K-1, a row of class y weighs the weight of
        the positive class of the model's output y, and the outputs stop together on
        their summed objective (or on the score of the model's first output).
    penalty, learning_rate : codes of PENALTIES / LEARNING_RATES.
    alpha, l1_ratio, eta0, power_t, fit_intercept : as in scikit-learn's SGD.
    average : sample count at which averaging starts (0: no averaging).
    tol, n_iter_no_change : the stopping rule (tol = -inf: never stop early).
    one_class : the one-class SVM (scikit-learn's SGDOneClassSVM, alpha = nu): one
        binary output, every row of the positive class, whose intercept b = 1 - offset
        is penalised by alpha b: the objective adds alpha b at each row, and b takes
        the step -eta alpha at each row besides the loss's.
    """
    cdef Settings s

    def __init__(self, *, int kernel, double epsilon=0.0, double quantile=0.0,
                 double power=0.0, bint multiclass=False, int penalty, double alpha,
                 double l1_ratio, int learning_rate, double eta0, double power_t,
                 bint fit_intercept, double average, double tol,
                 Py_ssize_t n_iter_no_change, bint one_class=False):
        cdef double typw, initial_eta0, g
        cdef int heuristic_kernel
        _penalty_parts(penalty, &self.s)
        _schedule_kind(learning_rate, &self.s)
        self.s.kernel = kernel
        self.s.params.epsilon = epsilon
        self.s.params.quantile = quantile
        self.s.params.power = power
        self.s.multiclass = multiclass
        self.s.tol = tol
        self.s.n_iter_no_change = n_iter_no_change
        self.s.penalty = penalty
        self.s.alpha = alpha
        self.s.l1_ratio = 0.0 if penalty == L2 else (1.0 if penalty == L1 else l1_ratio)
        self.s.learning_rate = learning_rate
        self.s.eta0 = eta0
        self.s.base_step = eta0 * (
            BASE_STEP_PER_ETA0["adagrad"] if learning_rate == ADAGRAD
            else BASE_STEP_PER_ETA0["normalized_adagrad"] if learning_rate == NORMALIZED_ADAGRAD
            else 0.0)
        self.s.l1_strength = alpha * self.s.l1_ratio if penalty != NO_PENALTY else 0.0
        self.s.l2_strength = alpha * (1.0 - self.s.l1_ratio) if penalty != NO_PENALTY else 0.0
        self.s.power_t = power_t
        self.s.fit_intercept = fit_intercept
        self.s.average = average
        if one_class and (multiclass or self.s.passive_aggressive or self.s.per_coordinate):
            raise ValueError(ONE_CLASS_PROBLEM)
        self.s.one_class = one_class
        self.s.optimal_init = 0.0
        if learning_rate == OPTIMAL:
            # scikit-learn's heuristic: eta at the first sample is typw / max(1, dloss)
            typw = sqrt(1.0 / sqrt(alpha))
            # (a multi-class model's heuristic is that of two classes: for the
            # multinomial loss, the logistic loss)
            heuristic_kernel = LOG_LOSS if kernel == MULTINOMIAL_LOG_LOSS else kernel
            if grad_by_code(heuristic_kernel, &self.s.params, 1.0, -typw, &g) != 0:
                raise ValueError(f"The SGD engine has no element-wise loss kernel with "
                                 f"the code {heuristic_kernel}.")
            initial_eta0 = typw / max(1.0, g)
            self.s.optimal_init = 1.0 / (initial_eta0 * alpha)

    @property
    def multiclass(self):
        return bool(self.s.multiclass)

    @property
    def per_coordinate(self):
        """Its schedule has per-coordinate steps (and state the model keeps)."""
        return bool(self.s.per_coordinate)


class TrainingData:
    """The rows a fit learns from (keywords only).

    X_data, X_indices, X_indptr, sparse, n_features : a dense matrix as X.ravel()
        (indices and indptr empty), or a CSR matrix's three arrays.
    y : targets, or class codes when `classification` (then output k's target is +1
        where y == pos_label[k] and -1 elsewhere, and passive-aggressive steps follow
        the sign of that target rather than of the residual); a multi-class model's
        class numbers 0..n_classes-1.
    sample_weight : per-row weights, X's float type.
    n_classes : the outputs of a multi-class model (0: there is none).
    validation_mask : None, or 1 for the rows held out for validation (not learned
        from).
    """
    __slots__ = ("X_data", "X_indices", "X_indptr", "sparse", "n_features", "y",
                 "sample_weight", "classification", "n_classes", "validation_mask")

    def __init__(self, *, X_data, X_indices, X_indptr, sparse, n_features, y,
                 sample_weight, classification, n_classes=0, validation_mask=None):
        self.X_data = X_data
        self.X_indices = X_indices
        self.X_indptr = X_indptr
        self.sparse = sparse
        self.n_features = n_features
        self.y = y
        self.sample_weight = sample_weight
        self.classification = classification
        self.n_classes = n_classes
        self.validation_mask = validation_mask


class ModelArrays:
    """The K outputs of a fit's models, in model order (keywords only): the arrays
    the engine updates in place, and what it reads per output.

    coef : (K, d) array of X's float type; intercept : (K,) float64.
    average_coef, average_intercept : (K, d) and (K,) running averages; shape (0, d)
        and (0,) when no model averages.
    pos_label : per output, its positive class (classification); weight_pos /
        weight_neg : the weight of the rows of its positive class and of the others.
    step_scale : None (all 1), or per output the factor of its learning rate (of
        every schedule but the per-coordinate ones): its loss's ``step_scale`` (1 but
        for the log-link losses).
    step_state : for the per-coordinate schedules ('adagrad', 'normalized_adagrad'),
        the tuple (root, inv_scale, sums) of float64 arrays updated in place: (K, d)
        roots of the sums of squared gradients, (K, d) inverse feature scales 1 / s_j
        (inf: not seen yet; read only for 'normalized_adagrad' models, else any
        array), and (K, 3) per output: the root of the intercept's sum of squared
        gradients, the rows' summed weight T and their summed normalised squared norms
        N ('normalized_adagrad'). Fresh: zeros, inf. None when no model has them.
    """
    __slots__ = ("coef", "intercept", "average_coef", "average_intercept", "pos_label",
                 "weight_pos", "weight_neg", "step_scale", "step_state")

    def __init__(self, *, coef, intercept, average_coef, average_intercept, pos_label,
                 weight_pos, weight_neg, step_scale=None, step_state=None):
        self.coef = coef
        self.intercept = intercept
        self.average_coef = average_coef
        self.average_intercept = average_intercept
        self.pos_label = pos_label
        self.weight_pos = weight_pos
        self.weight_neg = weight_neg
        self.step_scale = step_scale
        self.step_state = step_state


class RunSettings:
    """How a fit runs (keywords only).

    max_iter : epochs at most.
    seed : seed of scikit-learn's shuffle, which this engine reproduces; the rows are
        visited in the order it gives np.arange(n_rows), the same for every model.
    t : the time step of the first sample (1 for fresh models).
    intercept_decay : factor of the intercept's steps (scikit-learn's 0.01 for CSR).
    shuffle : shuffle the rows before each epoch.
    verbose : print a line per epoch and model when > 0.
    n_threads : threads over which the models are split.
    validation_score : None, or callable(v (K, d), intercept (K,), wscale (K,),
        active (K,)) -> K scores (greater is better), called after every epoch; it
        replaces the training objective as the stopping criterion (a multi-class
        model's: its first output's score). The weights are wscale[k] * v[k]; v alone
        is what scikit-learn scores. active[k]: output k learned in this epoch (and
        did not diverge); the others' scores are not read.
    stop_at_divergence : end the whole fit when a model diverges (an estimator's
        outputs are one model to its user); else only that model stops.
    """
    __slots__ = ("max_iter", "seed", "t", "intercept_decay", "shuffle", "verbose",
                 "n_threads", "validation_score", "stop_at_divergence")

    def __init__(self, *, max_iter, seed, t=1.0, intercept_decay=1.0, shuffle=True,
                 verbose=0, n_threads=1, validation_score=None, stop_at_divergence=True):
        self.max_iter = max_iter
        self.seed = seed
        self.t = t
        self.intercept_decay = intercept_decay
        self.shuffle = shuffle
        self.verbose = verbose
        self.n_threads = n_threads
        self.validation_score = validation_score
        self.stop_at_divergence = stop_at_divergence


# -- the driver --------------------------------------------------------------------------
cdef class _Run:
    """A fit of a list of models: its records (plain C arrays, freed however the fit
    ends, so that a partial_fit call of one row costs microseconds) and the models'
    state between epochs."""
    cdef Py_ssize_t K, n_models, n_passes, n_jobs, n_classes
    cdef Settings* settings           # per model
    cdef Py_ssize_t* lead             # per model: its first output
    cdef Py_ssize_t* width            # per model: its outputs
    cdef Py_ssize_t* pass_of          # per model: its pass
    cdef Output* outs                 # per output
    cdef Py_ssize_t* model_of         # per output: its model
    cdef double* t_of                 # per output: the time step of its next row
    cdef Py_ssize_t* learned_of       # per output: the rows its pass learned this epoch
    cdef Py_ssize_t* n_iter           # per output: the epochs it learned
    cdef Py_ssize_t* no_improvement   # per output (a model's first): its stopping rule's
    cdef double* best                 #   record
    cdef Py_ssize_t* diverged         # per output: the epoch it diverged in (0: none)
    cdef unsigned char* average_diverged  # per output: its running average overflowed
    cdef Epoch* jobs                  # per job (a pass's models in one thread)
    cdef Py_ssize_t* job_pass         # per job: its pass
    cdef Py_ssize_t* job_start        # per job: its models in job_models
    cdef Py_ssize_t* job_size
    cdef Py_ssize_t* job_models       # the jobs' models (first outputs), job by job
    cdef Py_ssize_t* active_models    # idem, each job's active ones first (its Epoch's)
    cdef Py_ssize_t* learned          # per job: rows learned in the epoch (or a status)
    cdef Py_ssize_t* work             # per job: see Epoch.work
    cdef Py_ssize_t* pass_learned     # per pass
    cdef int status
    cdef int verbose
    cdef bint stop_at_divergence
    cdef object validation_score
    cdef list objective_curve
    cdef list score_curve
    cdef list keep                    # the numpy arrays the pointers point into

    def __dealloc__(self):
        free(self.settings)
        free(self.lead)
        free(self.width)
        free(self.pass_of)
        free(self.outs)
        free(self.model_of)
        free(self.t_of)
        free(self.learned_of)
        free(self.n_iter)
        free(self.no_improvement)
        free(self.best)
        free(self.diverged)
        free(self.average_diverged)
        free(self.jobs)
        free(self.job_pass)
        free(self.job_start)
        free(self.job_size)
        free(self.job_models)
        free(self.active_models)
        free(self.learned)
        free(self.work)
        free(self.pass_learned)

    cdef int allocate(self) except -1:
        """The arrays of K outputs and n_models models (their passes' and jobs': once
        they are known, `allocate_jobs`)."""
        cdef Py_ssize_t K = max(self.K, 1), M = max(self.n_models, 1)
        self.settings = <Settings*>calloc(M, sizeof(Settings))
        self.lead = <Py_ssize_t*>calloc(M, sizeof(Py_ssize_t))
        self.width = <Py_ssize_t*>calloc(M, sizeof(Py_ssize_t))
        self.pass_of = <Py_ssize_t*>calloc(M, sizeof(Py_ssize_t))
        self.outs = <Output*>calloc(K, sizeof(Output))
        self.model_of = <Py_ssize_t*>calloc(K, sizeof(Py_ssize_t))
        self.t_of = <double*>calloc(K, sizeof(double))
        self.learned_of = <Py_ssize_t*>calloc(K, sizeof(Py_ssize_t))
        self.n_iter = <Py_ssize_t*>calloc(K, sizeof(Py_ssize_t))
        self.no_improvement = <Py_ssize_t*>calloc(K, sizeof(Py_ssize_t))
        self.best = <double*>calloc(K, sizeof(double))
        self.diverged = <Py_ssize_t*>calloc(K, sizeof(Py_ssize_t))
        self.average_diverged = <unsigned char*>calloc(K, 1)
        self.pass_learned = <Py_ssize_t*>calloc(M, sizeof(Py_ssize_t))
        if (self.settings == NULL or self.lead == NULL or self.width == NULL
                or self.pass_of == NULL or self.outs == NULL or self.model_of == NULL
                or self.t_of == NULL or self.learned_of == NULL or self.n_iter == NULL
                or self.no_improvement == NULL or self.best == NULL
                or self.diverged == NULL or self.average_diverged == NULL
                or self.pass_learned == NULL):
            raise MemoryError()
        return 0

    cdef int allocate_jobs(self, Py_ssize_t n_jobs) except -1:
        cdef Py_ssize_t J = max(n_jobs, 1), M = max(self.n_models, 1)
        self.n_jobs = n_jobs
        self.jobs = <Epoch*>calloc(J, sizeof(Epoch))
        self.job_pass = <Py_ssize_t*>calloc(J, sizeof(Py_ssize_t))
        self.job_start = <Py_ssize_t*>calloc(J, sizeof(Py_ssize_t))
        self.job_size = <Py_ssize_t*>calloc(J, sizeof(Py_ssize_t))
        self.learned = <Py_ssize_t*>calloc(J, sizeof(Py_ssize_t))
        self.work = <Py_ssize_t*>calloc(J, sizeof(Py_ssize_t))
        self.job_models = <Py_ssize_t*>calloc(M, sizeof(Py_ssize_t))
        self.active_models = <Py_ssize_t*>calloc(M, sizeof(Py_ssize_t))
        if (self.jobs == NULL or self.job_pass == NULL or self.job_start == NULL
                or self.job_size == NULL or self.learned == NULL or self.work == NULL
                or self.job_models == NULL or self.active_models == NULL):
            raise MemoryError()
        return 0

    def result(self, Py_ssize_t epoch):
        cdef Py_ssize_t k, K = self.K
        n_iter = np.empty(K, dtype=np.intp)
        diverged = np.empty(K, dtype=np.intp)
        average_diverged = np.empty(K, dtype=bool)
        t = np.empty(K)
        for k in range(K):
            n_iter[k] = self.n_iter[k]
            diverged[k] = self.diverged[k]
            average_diverged[k] = self.average_diverged[k]
            t[k] = self.t_of[k]
        return {
            "status": self.status,
            "epoch": epoch + 1,
            "n_iter": n_iter,
            "diverged": diverged,
            "average_diverged": average_diverged,
            "t": t,
            "objective_curve": self.objective_curve,
            "score_curve": self.score_curve,
        }


cdef inline Py_ssize_t _n_groups(Py_ssize_t n, Py_ssize_t n_threads,
                                 Py_ssize_t per_job) noexcept nogil:
    """The jobs of a pass of n models: one per thread, and at most per_job models
    each."""
    return max(1, max(min(n_threads, n), (n + per_job - 1) // per_job))


cdef int _plan_passes(_Run fit, Py_ssize_t n_threads, Py_ssize_t per_job) except -1:
    """The passes of a fit: its models grouped by loss and kind of row loop (in the
    order they first appear), each split by its models into jobs (_n_groups), every
    job's models in model order.

    A pass per loss, not one pass whose rows switch from loss to loss: measured
    (benchmarks/results/loss_passes.md, against commit 2a18426, which switched per
    run of models of one loss), one switched pass won only on dense rows of 64
    values or more with models of 4 losses (0.75-0.82 of the time), and lost on short
    dense rows (1.15-1.50) and small CSR rows (1.19-1.57), where the switch's call
    costs more than another read of the rows."""
    cdef Py_ssize_t m, p, g, i, n, n_groups, n_jobs = 0, at = 0
    cdef const Settings* s
    cdef const Settings* first
    cdef Py_ssize_t* pass_first = fit.pass_learned  # (as scratch: a pass's first model)
    fit.n_passes = 0
    for m in range(fit.n_models):
        s = &fit.settings[m]
        for p in range(fit.n_passes):
            first = &fit.settings[pass_first[p]]
            if (first.kernel == s.kernel and first.per_coordinate == s.per_coordinate
                    and first.skips_zero_rows == s.skips_zero_rows):
                break
        else:
            p = fit.n_passes
            pass_first[p] = m
            fit.n_passes += 1
        fit.pass_of[m] = p
    for p in range(fit.n_passes):
        n = 0
        for m in range(fit.n_models):
            n += fit.pass_of[m] == p
        n_jobs += _n_groups(n, n_threads, per_job)
    fit.allocate_jobs(n_jobs)
    n_jobs = 0
    for p in range(fit.n_passes):
        n = 0
        for m in range(fit.n_models):
            if fit.pass_of[m] == p:
                fit.job_models[at + n] = fit.lead[m]
                n += 1
        n_groups = _n_groups(n, n_threads, per_job)
        for g in range(n_groups):
            fit.job_pass[n_jobs] = p
            fit.job_start[n_jobs] = at + g * n // n_groups
            fit.job_size[n_jobs] = (g + 1) * n // n_groups - g * n // n_groups
            n_jobs += 1
        at += n
    for i in range(fit.n_models):
        fit.active_models[i] = fit.job_models[i]
    return 0


cdef _start_outputs(_Run fit, floating[:, ::1] coef, floating[:, ::1] average_coef,
                    double[::1] intercept, double[::1] average_intercept, step_state,
                    bint sparse, double t):
    """Each output's state at the start of a fit: its settings, its per-coordinate
    state (checked against the model's shape), its intercept, average and step."""
    cdef Py_ssize_t K = coef.shape[0], d = coef.shape[1], k, m
    cdef const Settings* s
    cdef Output* o
    cdef double[:, ::1] root, inv_scale, sums, last
    cdef bint per_coordinate = False, normalized = False, lazy_penalty = False
    for m in range(fit.n_models):
        s = &fit.settings[m]
        per_coordinate |= s.per_coordinate
        normalized |= s.learning_rate == NORMALIZED_ADAGRAD
        lazy_penalty |= s.per_coordinate and sparse and s.penalty != NO_PENALTY
    if per_coordinate:
        if step_state is None:
            raise ValueError("The per-coordinate state does not match the model's shape.")
        root, inv_scale, sums = step_state
        if (root.shape[0] != K or root.shape[1] != d or sums.shape[0] != K
                or sums.shape[1] != 3 or (normalized and (
                    inv_scale.shape[0] != K or inv_scale.shape[1] != d))):
            raise ValueError("The per-coordinate state does not match the model's shape.")
        # sparse rows: the last row whose penalty a coordinate has had (nothing pending:
        # every row before t has had its penalty; dense rows share one such time per
        # output, Output.penalised_until)
        last_array = np.full((K if lazy_penalty else 1, d), t - 1.0)
        last = last_array
        fit.keep.append(last_array)  # (step_state's arrays are the caller's)
    for k in range(K):
        m = fit.model_of[k]
        s = &fit.settings[m]
        o = &fit.outs[k]
        o.s = s
        o.coordinates.root = o.coordinates.inv_scale = NULL
        o.coordinates.last = o.coordinates.buffer = NULL
        if s.per_coordinate:
            o.coordinates.root = &root[k, 0]
            if s.learning_rate == NORMALIZED_ADAGRAD:
                o.coordinates.inv_scale = &inv_scale[k, 0]
            if sparse and s.penalty != NO_PENALTY:
                o.coordinates.last = &last[k, 0]
        o.wscale = 1.0
        o.sq_norm = o.l1_norm = 0.0
        o.intercept = intercept[k]
        o.avg_a = 0.0
        o.avg_b = 1.0
        o.avg_intercept = average_intercept[k] if average_intercept.shape[0] > 0 else 0.0
        o.u = 0.0
        o.eta = s.eta0
        o.sumloss = o.objective = 0.0
        o.active = True
        o.overflow = False
        o.root_intercept = sums[k, 0] if s.per_coordinate else 0.0
        o.penalised_until = t - 1.0
        o.weight_sum = sums[k, 1] if s.per_coordinate else 0.0
        o.norm_sum = sums[k, 2] if s.per_coordinate else 0.0
        o.step = s.base_step
        if s.learning_rate == NORMALIZED_ADAGRAD and o.norm_sum > 0.0:
            o.step = s.base_step * sqrt(o.weight_sum / o.norm_sum)
        fit.t_of[k] = t
        fit.best[k] = INFINITY


cdef inline floating* _row_or_null(floating[:, ::1] array, Py_ssize_t k, bint wanted):
    """Row k of a (K, d) array, or NULL when not wanted (or the array has no rows)."""
    if not wanted or array.shape[0] == 0:
        return NULL
    return &array[k, 0]
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


cdef bint _end_epoch(_Run fit, Py_ssize_t epoch, floating[:, ::1] coef,
                     floating[:, ::1] average_coef) except -1:
    """The end of an epoch for every model: the rows learned and the time step, the
    per-coordinate schedules' pending penalties, divergence, the validation scores,
    the learning curves and the stopping rules; then each job's models that go on.
    Returns whether any model goes on."""
    cdef Output* outs = fit.outs
    cdef Py_ssize_t K = fit.K, d = coef.shape[1], k, j, m, i, lead, width, n_active
    cdef const Settings* s
    cdef double score, denominator
    for m in range(fit.n_passes):
        fit.pass_learned[m] = 0
    for j in range(fit.n_jobs - 1, -1, -1):  # (every job of a pass learned the same rows)
        if fit.learned[j] >= 0:
            fit.pass_learned[fit.job_pass[j]] = fit.learned[j]
    for k in range(K):
        s = outs[k].s
        fit.learned_of[k] = fit.pass_learned[fit.pass_of[fit.model_of[k]]]
        if not outs[k].active:
            continue  # (a stopped model's time stops with it)
        fit.t_of[k] += fit.learned_of[k]
        if s.per_coordinate:
            # the penalty the rows' absent coordinates have pending
            _adaptive_flush(s, &outs[k], &coef[k, 0],
                            _row_or_null(average_coef, k, s.average > 0),
                            outs[k].coordinates, d, fit.t_of[k])
            # the objective's penalty: that of the epoch's final weights (the rows'
            # steps do not keep the norms up to date)
            _exact_norms(&coef[k, 0], d, outs[k].coordinates.inv_scale, &outs[k])
            outs[k].objective += fit.learned_of[k] * _penalty(s, &outs[k])

    # diverged: a weight, a prediction or a loss left the float type's range (the
    # model's predictions would overflow too)
    for m in range(fit.n_models):
        lead, width = fit.lead[m], fit.width[m]
        if not outs[lead].active:
            continue
        for k in range(lead, lead + width):
            if outs[k].overflow or not (_finite(&coef[k, 0], d, outs[k].intercept)
                                        and outs[k].sumloss <= outs[k].s.float_max):
                fit.status = DIVERGED
                for i in range(lead, lead + width):
                    fit.diverged[i] = epoch + 1
                    outs[i].active = False
                break
    if fit.status == DIVERGED and fit.stop_at_divergence:
        return False

    scores = None
    cdef double[::1] score_view
    if fit.validation_score is not None:
        # scikit-learn scores its stored vector v, without the pending L2 scale
        # wscale (w = wscale * v), beside the intercept. The callback gets v and the
        # scales, so that it can do the same (early stopping then stops at
        # scikit-learn's epoch: true weights would stop later under the 'optimal'
        # schedule, where wscale decays like 1/t between rescalings) and can also
        # score the true model.
        intercepts, wscales = np.empty(K), np.empty(K)
        active = np.empty(K, dtype=bool)
        for k in range(K):
            intercepts[k] = outs[k].intercept
            wscales[k] = outs[k].wscale
            active[k] = outs[k].active
        scores = np.asarray(fit.validation_score(np.array(coef), intercepts, wscales,
                                                 active), dtype=float)
        fit.score_curve.append(scores)
        score_view = scores
    curve = np.empty(K)
    cdef double[::1] curve_view = curve
    for k in range(K):
        curve_view[k] = outs[k].objective / max(fit.learned_of[k], 1)
    fit.objective_curve.append(curve)

    # the stopping rule, per model; a multi-class model's outputs stop together, on
    # their summed objective (its loss is counted in its first output)
    for m in range(fit.n_models):
        lead, width = fit.lead[m], fit.width[m]
        if not outs[lead].active:
            continue
        s = &fit.settings[m]
        denominator = max(fit.learned_of[lead], 1)
        fit.n_iter[lead] = epoch + 1
        if fit.verbose > 0:
            # (a multi-class model: its outputs as one)
            _print_epoch(epoch, "" if fit.n_models == 1 else "Output %d: " % lead,
                         &coef[lead, 0], width * d, &outs[lead], width, not s.multiclass,
                         fit.t_of[lead], fit.learned_of[lead],
                         None if scores is None else scores[lead], lead == 0)
        if scores is not None:
            # larger is better: stop when the score stops improving by tol
            score = -score_view[lead]
        else:
            score = 0.0
            for k in range(lead, lead + width):
                score += outs[k].objective
            score /= denominator
        if s.tol > -INFINITY and score > fit.best[lead] - s.tol:
            fit.no_improvement[lead] += 1
        else:
            fit.no_improvement[lead] = 0
        if score < fit.best[lead]:
            fit.best[lead] = score
        if fit.no_improvement[lead] >= s.n_iter_no_change:
            if s.learning_rate == ADAPTIVE and outs[lead].eta > 1e-6:
                outs[lead].eta /= 5.0
                fit.no_improvement[lead] = 0
            else:
                outs[lead].active = False
                if fit.verbose > 0:
                    print("Convergence after %d epochs" % (epoch + 1))
        for k in range(lead + 1, lead + width):
            outs[k].active = outs[lead].active
            outs[k].eta = outs[lead].eta
            fit.n_iter[k] = fit.n_iter[lead]

    # the jobs' models that go on (a stopped model costs nothing more)
    n_active = 0
    for j in range(fit.n_jobs):
        fit.jobs[j].n_models = 0
        for i in range(fit.job_start[j], fit.job_start[j] + fit.job_size[j]):
            if outs[fit.job_models[i]].active:
                fit.active_models[fit.job_start[j] + fit.jobs[j].n_models] = fit.job_models[i]
                fit.jobs[j].n_models += 1
        n_active += fit.jobs[j].n_models
    return n_active > 0


cdef _write_back(_Run fit, floating[:, ::1] coef, floating[:, ::1] average_coef,
                 double[::1] intercept, double[::1] average_intercept, step_state):
    """The outputs' state into the arrays the fit was given: v with its scale folded
    in, the intercepts, the averages (their overflow is a divergence too) and the
    per-coordinate sums."""
    cdef Output* outs = fit.outs
    cdef Py_ssize_t k, d = coef.shape[1]
    cdef floating* aw
    cdef double[:, ::1] sums
    if step_state is not None:
        sums = step_state[2]
    for k in range(fit.K):
        aw = _row_or_null(average_coef, k, outs[k].s.average > 0)
        _reset_wscale(&coef[k, 0], aw, d, &outs[k])
        intercept[k] = outs[k].intercept
        if outs[k].s.per_coordinate:
            sums[k, 0] = outs[k].root_intercept
            sums[k, 1] = outs[k].weight_sum
            sums[k, 2] = outs[k].norm_sum
        if average_intercept.shape[0] > 0:
            average_intercept[k] = outs[k].avg_intercept
            # the average can overflow where the weights did not (huge sample
            # weights): its model would be as unusable
            if aw != NULL and not _finite(aw, d, outs[k].avg_intercept):
                fit.status = DIVERGED
                fit.average_diverged[k] = True


cdef object _epochs(_Run fit, data, arrays, run, floating[:, ::1] coef,
                    const floating[::1] X_data, const index_t[::1] X_indices,
                    const index_t[::1] X_indptr, const floating[::1] y,
                    const floating[::1] sample_weight,
                    const unsigned char[::1] validation_mask):
    """The epochs of a fit (set up by _fit): the rows of each epoch in their order,
    the passes over them in their jobs and threads, the end of the epoch for every
    model (_end_epoch), and the models' state written back (_write_back)."""
    cdef Py_ssize_t K = coef.shape[0], d = coef.shape[1], n_all = y.shape[0]
    cdef Py_ssize_t n_classes = fit.n_classes, k, j, m, n_rows, epoch = 0, n_jobs, n_team
    cdef Py_ssize_t n_threads = max(1, run.n_threads)
    cdef Py_ssize_t max_iter = run.max_iter
    cdef uint32_t seed = run.seed
    cdef bint shuffle = run.shuffle, sparse = data.sparse
    cdef int interrupted = 0
    cdef Output* outs = fit.outs
    # only the main thread handles signals (PyErr_CheckSignals does nothing elsewhere):
    # a fit in another thread does not take the GIL to look for them
    cdef bint main_thread = threading.current_thread() is threading.main_thread()
    cdef floating[:, ::1] average_coef = arrays.average_coef
    cdef floating* aw = &average_coef[0, 0] if average_coef.shape[0] > 0 else NULL
    cdef const index_t* ind_ptr = &X_indices[0] if X_indices.shape[0] > 0 else NULL
    cdef const index_t* indptr_ptr = &X_indptr[0] if X_indptr.shape[0] > 0 else NULL
    # without validation rows every row trains: the epoch runs `order` itself
    cdef bint holdout = validation_mask is not None and np.any(np.asarray(validation_mask))
    cdef Py_ssize_t[::1] order = np.arange(n_all, dtype=np.intp)
    cdef Py_ssize_t[::1] train_order = np.empty(n_all if holdout else 1, dtype=np.intp)
    cdef Py_ssize_t* rows = &train_order[0] if holdout else &order[0]
    # the targets and weights in the epoch's row order (_gather); unit weights are
    # not read at all
    cdef bint unit_weights = bool(np.all(np.asarray(sample_weight) == 1.0))
    y_array = np.asarray(y)
    cdef floating[::1] y_in_order = np.empty(n_all, dtype=y_array.dtype)
    cdef floating[::1] sw_in_order = np.empty(1 if unit_weights else n_all,
                                              dtype=y_array.dtype)
    cdef const double[::1] pos_label = arrays.pos_label
    cdef const double[::1] weight_pos = arrays.weight_pos
    cdef const double[::1] weight_neg = arrays.weight_neg

    # A CSR row updates its models' weights at random places: a job's models share
    # the cache, and beyond SPARSE_JOB_BYTES of weights each model's misses cost
    # more than another read of the rows (benchmarks/fused_models.py: 16 models of
    # 2^18 weights in one pass took 2.2 times their 16 passes alone). Dense rows
    # read each model's weights in order: any number per job.
    cdef Py_ssize_t per_job = sparse_models_per_job(
        d * <Py_ssize_t>sizeof(floating) * (n_classes if n_classes > 0 else 1)) \
        if sparse else max(1, fit.n_models)
    _plan_passes(fit, n_threads, per_job)
    n_jobs = fit.n_jobs
    n_team = min(n_threads, n_jobs)
    cdef Epoch* jobs = fit.jobs
    cdef bint any_l1 = False, sparse_buffers = False
    for m in range(fit.n_models):
        any_l1 |= fit.settings[m].tracks_l1 and not fit.settings[m].per_coordinate
        sparse_buffers |= sparse and fit.settings[m].per_coordinate
    q = np.zeros((K if any_l1 else 0, d), dtype=y_array.dtype)
    cdef floating[:, ::1] q_view = q
    cdef Py_ssize_t longest = int(np.diff(np.asarray(X_indptr)).max()) if sparse_buffers else 0
    cdef double[::1] buffers = np.empty(n_jobs * 5 * (longest + 1) if sparse_buffers else 1)
    cdef double[::1] scratch = np.zeros(3 * n_classes * n_jobs if n_classes > 0 else 1)
    cdef Py_ssize_t distance = _prefetch_distance(X_data, X_indices, X_indptr.shape[0] - 1,
                                                  sparse, d)
    fit.keep.extend([q, buffers, scratch, order, train_order, y_in_order, sw_in_order])
    cdef const Settings* s
    for j in range(n_jobs):
        s = &fit.settings[fit.model_of[fit.job_models[fit.job_start[j]]]]
        jobs[j].kernel = s.kernel
        jobs[j].outs = outs
        jobs[j].models = fit.active_models + fit.job_start[j]
        jobs[j].n_models = fit.job_size[j]
        jobs[j].multiclass = s.multiclass
        jobs[j].width = n_classes if s.multiclass else 1
        jobs[j].per_coordinate = s.per_coordinate
        jobs[j].skips_zero_rows = s.skips_zero_rows
        jobs[j].classification = data.classification
        jobs[j].coef = &coef[0, 0]
        jobs[j].avg_coef = aw
        jobs[j].q = &q_view[0, 0] if any_l1 else NULL
        jobs[j].buffer = &buffers[j * 5 * (longest + 1)] if sparse_buffers else NULL
        jobs[j].d = d
        jobs[j].X_data = &X_data[0]
        jobs[j].X_indices = ind_ptr
        jobs[j].X_indptr = indptr_ptr
        jobs[j].sparse = sparse
        jobs[j].y = &y_in_order[0]
        jobs[j].sw = &sw_in_order[0] if not unit_weights else NULL
        jobs[j].pos_label = &pos_label[0]
        jobs[j].weight_pos = &weight_pos[0]
        jobs[j].weight_neg = &weight_neg[0]
        jobs[j].order = rows
        # (job j runs in thread j % n_team: thread 0 is this one)
        jobs[j].check_signals = main_thread and j % n_team == 0
        jobs[j].interrupted = &interrupted
        jobs[j].scratch = &scratch[3 * n_classes * j] if s.multiclass else NULL
        jobs[j].work = &fit.work[j]
        jobs[j].prefetch_rows = distance

    # one job, and a thread to spare: the rows are gathered in a second thread
    # (Pipeline), for X large enough to gain from it
    cdef Pipeline pipeline
    cdef Py_ssize_t x_bytes = X_data.shape[0] * sizeof(floating) + (
        X_indices.shape[0] * sizeof(index_t) if sparse else 0)
    cdef bint pipelined = (HAVE_ATOMICS and n_jobs == 1 and n_threads >= 2
                           and x_bytes >= PIPELINE_MIN_BYTES)
    cdef Py_ssize_t row_values = 1, value_bytes = sizeof(floating) + (
        sizeof(index_t) if sparse else 0)
    pipeline.prefetch_rows = distance
    pipeline.block_rows = pipeline.slot_values = 1
    if pipelined:
        # a slot holds block_rows of the longest rows
        row_values = d if not sparse else max(1, int(np.diff(np.asarray(X_indptr)).max()))
        pipeline.block_rows = max(1, BLOCK_BYTES // (row_values * value_bytes))
        pipeline.slot_values = pipeline.block_rows * row_values
        # (CSR rows far longer than the others would make the slots as large as X)
        pipelined = SLOTS * pipeline.slot_values * value_bytes <= x_bytes // 4
    cdef floating[::1] block_values
    cdef index_t[::1] block_indices, block_indptr
    cdef Py_ssize_t[::1] identity
    if pipelined:
        block_values = np.empty(SLOTS * pipeline.slot_values, dtype=y_array.dtype)
        block_indices = np.empty(SLOTS * pipeline.slot_values if sparse else 1,
                                 dtype=np.asarray(X_indices).dtype)
        block_indptr = np.empty(SLOTS * (pipeline.block_rows + 1) if sparse else 1,
                                dtype=np.asarray(X_indices).dtype)
        identity = np.arange(pipeline.block_rows, dtype=np.intp)
        pipeline.values = &block_values[0]
        pipeline.indices = &block_indices[0] if sparse else NULL
        pipeline.indptr = &block_indptr[0] if sparse else NULL

    cdef Py_ssize_t* learned = fit.learned
    for epoch in range(max_iter):
        with nogil:
            for k in range(K):
                outs[k].sumloss = 0.0
                outs[k].objective = 0.0
                # (the per-coordinate schedules need them at the epoch's end only)
                if outs[k].active and not outs[k].s.per_coordinate:
                    _exact_norms(&coef[k, 0], d, NULL, &outs[k])
            if shuffle:
                _shuffle(&order[0], n_all, seed)
            n_rows = n_all
            if holdout:
                n_rows = _training_rows(&order[0], n_all, &validation_mask[0], rows)
            _gather(rows, n_rows, &y[0], &y_in_order[0])
            if not unit_weights:
                _gather(rows, n_rows, &sample_weight[0], &sw_in_order[0])
            for j in range(n_jobs):
                jobs[j].n_rows = n_rows
                if jobs[j].n_models > 0:  # (a job with none does not run)
                    jobs[j].t0 = fit.t_of[jobs[j].models[0]]
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
                            learned[0] = _job_epoch(&jobs[0], <floating*>NULL,
                                                    <index_t*>NULL)
                        else:
                            learned[0] = _pipelined_epoch(
                                &jobs[0], &pipeline, &identity[0], <floating*>NULL,
                                <index_t*>NULL)
                    else:
                        _gather_blocks(&pipeline, &X_data[0], ind_ptr, indptr_ptr,
                                       sparse, d)
            elif n_jobs == 1:
                learned[0] = _job_epoch(&jobs[0], <floating*>NULL, <index_t*>NULL)
            else:
                for j in prange(n_jobs, num_threads=n_team, schedule="static",
                                chunksize=1):
                    learned[j] = _job_epoch(&jobs[j], <floating*>NULL, <index_t*>NULL)
        for j in range(n_jobs):
            if learned[j] < 0 and learned[j] != NOT_RUN:
                raise ValueError(
                    "The SGD engine has no loss kernel with the code %d%s." % (
                        jobs[j].kernel, "" if learned[j] == UNKNOWN_LOSS else
                        " for %s outputs" % ("multi-class" if jobs[j].multiclass
                                             else "single")))
        if interrupted:
            _raise_pending()
        if _check_signals() != 0:
            _raise_pending()
        if not _end_epoch(fit, epoch, coef, average_coef):
            break
    cdef double[::1] intercept = arrays.intercept
    cdef double[::1] average_intercept = arrays.average_intercept
    _write_back(fit, coef, average_coef, intercept, average_intercept, arrays.step_state)
    return fit.result(epoch)


def fit_epochs(models, data, arrays, run):
    """Run up to `run.max_iter` epochs of SGD for a list of models over the same rows
    in the same order.

    Parameters
    ----------
    models : sequence of ModelSettings, one per model. Model m's outputs follow model
        m - 1's in `arrays`: `data.n_classes` of them for a multi-class loss, else
        one (the K outputs of a one-vs-rest problem are K models).
    data : TrainingData.
    arrays : ModelArrays of the K outputs.
    run : RunSettings.

    The models are fitted in passes over the rows: one per loss and kind of row loop
    (per-coordinate, PA-I, the others), each split into run.n_threads threads by its
    models; every pass reads the rows in the same order, so a model's result does not
    depend on the others, nor on the number of threads.

    Returns
    -------
    dict with "status" (OK, or DIVERGED when some model diverged), "epoch" (epochs
    run), "n_iter" (per output, the epochs it learned), "diverged" (per output, the
    epoch it diverged in, 0 if none), "average_diverged" (per output, whether its
    running average overflowed), "t" (per output, the time step after its last
    sample), "objective_curve" (per epoch, the K mean objectives: mean loss of the
    rows, each at the weights before its step, plus the mean penalty; a softmax
    model's loss is in its first output) and "score_curve" (per epoch, the K scores).
    """
    return _fit(models if type(models) is tuple else tuple(models), data, arrays, run,
                arrays.coef, data.X_indices)


def _fit(tuple models, data, arrays, run, floating[:, ::1] coef,
         const index_t[::1] X_indices):
    """fit_epochs, compiled for X's float type and index type: the models' records
    checked and copied, the outputs started, then the epochs."""
    cdef Py_ssize_t K = coef.shape[0], n_models = len(models), n_classes = data.n_classes
    cdef Py_ssize_t k, m, n_rows
    cdef const floating[::1] X_data = data.X_data
    cdef const index_t[::1] X_indptr = data.X_indptr
    cdef const floating[::1] y = data.y
    cdef const floating[::1] sample_weight = data.sample_weight
    cdef const unsigned char[::1] validation_mask = data.validation_mask
    cdef floating[:, ::1] average_coef = arrays.average_coef
    cdef double[::1] intercept = arrays.intercept
    cdef double[::1] average_intercept = arrays.average_intercept
    cdef const double[::1] weight_pos = arrays.weight_pos
    cdef const double[::1] step_scales
    cdef ModelSettings settings
    cdef bint sparse = data.sparse
    cdef double t = run.t
    n_rows = y.shape[0]
    if n_models == 0:
        raise ValueError("The SGD engine needs at least one model.")
    cdef _Run fit = _Run()
    fit.K, fit.n_models, fit.n_classes = K, n_models, n_classes
    fit.allocate()
    k = 0
    for m in range(n_models):
        settings = models[m]
        if settings.s.multiclass and (n_classes < 2 or weight_pos.shape[0] != K):
            raise ValueError("A multi-class loss needs K >= 2 outputs and K class weights.")
        if settings.s.one_class and not data.classification:
            raise ValueError(ONE_CLASS_PROBLEM)
        fit.lead[m] = k
        fit.width[m] = n_classes if settings.s.multiclass else 1
        k += fit.width[m]
    if k != K or weight_pos.shape[0] != K or arrays.pos_label.shape[0] != K \
            or arrays.weight_neg.shape[0] != K or intercept.shape[0] != K:
        raise ValueError(f"The models have {k} outputs; coef, intercept and the class "
                         f"arrays have {K}, {intercept.shape[0]} and "
                         f"{weight_pos.shape[0]} rows.")
    if n_rows == 0 or (validation_mask is not None and validation_mask.shape[0] != n_rows):
        raise ValueError("The SGD engine needs rows to learn from and one mask entry "
                         "per row.")
    if arrays.step_scale is not None:
        step_scales = np.asarray(arrays.step_scale, dtype=np.float64).reshape(-1)
        if step_scales.shape[0] != K:
            raise ValueError(f"step_scale must be K = {K} finite numbers > 0; got "
                             f"{arrays.step_scale}.")
    for m in range(n_models):
        settings = models[m]
        fit.settings[m] = settings.s
        # the fit's part of the record
        fit.settings[m].classification = data.classification
        fit.settings[m].intercept_decay = run.intercept_decay
        fit.settings[m].step_scale = 1.0
        if arrays.step_scale is not None:
            fit.settings[m].step_scale = step_scales[fit.lead[m]]
            if not fit.settings[m].step_scale > 0.0 or fit.settings[m].step_scale == INFINITY:
                raise ValueError(f"step_scale must be K = {K} finite numbers > 0; got "
                                 f"{arrays.step_scale}.")
        fit.settings[m].wscale_threshold = 1e-6 if floating is float else 1e-9
        fit.settings[m].float_max = FLT_MAX if floating is float else DBL_MAX
        for k in range(fit.lead[m], fit.lead[m] + fit.width[m]):
            fit.model_of[k] = m
    fit.keep = []
    fit.objective_curve = []
    fit.score_curve = []
    fit.verbose = run.verbose
    fit.stop_at_divergence = run.stop_at_divergence
    fit.validation_score = run.validation_score
    _start_outputs(fit, coef, average_coef, intercept, average_intercept,
                   arrays.step_state, sparse, t)
    return _epochs(fit, data, arrays, run, coef, X_data, X_indices, X_indptr, y,
                   sample_weight, validation_mask)


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
