# The epoch loop of the SGD engine: one pass over the rows in a given order, every
# row read once for all the outputs it updates; and the row order (scikit-learn's
# shuffle, the rows held out for validation).
#
# An epoch reads what it works on from one record (Epoch), so that what a fit adds
# (per-coordinate state, say) is one field, not a parameter threaded through every
# function. The record's pointers are untyped: _epoch is compiled per float type,
# index type and loss, and types them.

from cython cimport floating
from libc.stdint cimport uint32_t

from sklloss.losses._kernels cimport MultinomialLogLoss, loss_t
from sklloss.linear_model._adaptive cimport Coordinates
from sklloss.linear_model._rows cimport (
    _dot,
    _dot_sq,
    _prefetch,
    _prefetch_range,
    _sqnorm,
    _sum,
    index_t,
)
from sklloss.linear_model._settings cimport ADAGRAD, PA1, Settings
from sklloss.linear_model._steps cimport _shifted, _step, _step_multinomial
from sklloss.linear_model._weights cimport Output

cdef extern from "Python.h":
    # Declared without an exception clause: the caller decides what to do.
    int _PyErr_CheckSignals "PyErr_CheckSignals"()


cdef enum:
    # Pending signals (Ctrl-C) are looked at after about this much work:
    # multiply-adds (a row's non-zeros times the outputs it updates) plus ROW_COST per
    # row for its cache misses and bookkeeping. ~2^23 is a few milliseconds, whatever
    # the shape: tall narrow data checks every ~20k rows, a wide row or many classes
    # sooner.
    SIGNAL_CHECK_WORK = 1 << 23
    ROW_COST = 256
    PREFETCH_AHEAD = 4  # rows ahead in the shuffled order


ctypedef struct Epoch:
    const Settings* s
    Output* outs                # the K outputs' weight state
    Py_ssize_t k_begin          # the outputs this epoch updates: k_begin..k_end-1
    Py_ssize_t k_end
    bint multiclass             # the outputs are one multi-class loss's (all K)
    void* coef                  # (K, d) weights v, of the float type of X
    void* avg_coef              # (K, d) running averages, or NULL
    void* q                     # (K, d) applied L1 penalties, or NULL
    Coordinates coordinates     # (K, d) per-coordinate state (_adaptive.pxd), or NULLs
    Py_ssize_t d
    const void* X_data          # X.ravel(), or a CSR matrix's data
    const void* X_indices       # a CSR matrix's indices (NULL: dense)
    const void* X_indptr        # and indptr
    bint sparse
    const void* y               # targets, or class numbers, in the order of `order`
                                # (y[r] is row order[r]'s: see _gather)
    const void* sw              # sample weights, idem; NULL: all 1
    const double* pos_label     # per output: its positive class (classification)
    const double* weight_pos    # per output: the weight of its positive class's rows
    const double* weight_neg    # per output: the weight of the other rows
    const Py_ssize_t* order     # the rows to visit, in order
    Py_ssize_t n_rows
    double t0                   # the time step of the first row
    bint check_signals          # look for Ctrl-C (the main thread's first group)
    int* interrupted            # set to 1 when a signal arrived (shared by groups)
    double* scratch             # 3 K doubles for a multi-class loss, else NULL


cdef inline void _prefetch_ahead(const Py_ssize_t* order, Py_ssize_t n_rows, Py_ssize_t r,
                                 const floating* X_data, const index_t* X_indices,
                                 const index_t* X_indptr, bint sparse,
                                 Py_ssize_t d) noexcept nogil:
    """Prefetch the rows ahead of row r of `order`. Shuffled rows miss the cache:
    fetch ahead, in two stages for a CSR row, whose address is itself in memory: the
    far row's row pointer first, then the near row's values and indices."""
    cdef Py_ssize_t ahead = r + 2 * PREFETCH_AHEAD, next_row, nnz
    if sparse and ahead < n_rows:
        _prefetch(X_indptr + order[ahead])
    ahead = r + PREFETCH_AHEAD
    if ahead < n_rows:
        next_row = order[ahead]
        if sparse:
            nnz = X_indptr[next_row + 1] - X_indptr[next_row]
            _prefetch_range(X_data + X_indptr[next_row], nnz * sizeof(floating))
            _prefetch_range(X_indices + X_indptr[next_row], nnz * sizeof(index_t))
        else:
            _prefetch_range(X_data + next_row * d, d * sizeof(floating))


cdef inline void _gather(const Py_ssize_t* order, Py_ssize_t n_rows, const floating* values,
                         floating* in_order) noexcept nogil:
    """in_order[r] = values[order[r]]: a row's target and weight, read where the epoch
    reaches it in one pass of independent loads (the CPU overlaps their misses)
    instead of two more cache misses in every step; the epoch then reads them
    sequentially (for tall narrow X they cost as much as the row itself)."""
    cdef Py_ssize_t r
    for r in range(n_rows):
        in_order[r] = values[order[r]]


cdef inline double _read_rows(const Py_ssize_t* order, Py_ssize_t n_rows,
                              const floating* X_data, const index_t* X_indices,
                              const index_t* X_indptr, bint sparse,
                              Py_ssize_t d) noexcept nogil:
    """The floor of an epoch: every row of `order` read once, in that order, with the
    epoch's prefetching, and nothing else (the sum of the values, and of the indices
    of a CSR row, so that no read can be left out)."""
    cdef Py_ssize_t r, i, j, nnz
    cdef const floating* x
    cdef const index_t* idx
    cdef double total = 0.0
    cdef index_t index_total = 0
    for r in range(n_rows):
        i = order[r]
        _prefetch_ahead(order, n_rows, r, X_data, X_indices, X_indptr, sparse, d)
        if sparse:
            x = X_data + X_indptr[i]
            idx = X_indices + X_indptr[i]
            nnz = X_indptr[i + 1] - X_indptr[i]
            for j in range(nnz):
                index_total += idx[j]
        else:
            x = X_data + i * d
            nnz = d
        total += _sum(x, nnz)
    return total + index_total


cdef inline int _check_signals() noexcept with gil:
    return _PyErr_CheckSignals()


cdef inline Py_ssize_t _epoch(loss_t loss, const Epoch* e, const floating* precision,
                              const index_t* index_type) noexcept nogil:
    """One pass over the rows `e.order[0:e.n_rows]` for outputs e.k_begin..e.k_end-1,
    in the float type of `precision` and the index type of `index_type` (NULL
    pointers that select the specialisation).

    A multi-class loss (MultinomialLogLoss) trains the outputs 0..k_end-1 together, as
    the classes of one model: y holds class numbers, a row of class y weighs
    weight_pos[y] (the weight of output y's positive class), and e.scratch holds 3 K
    doubles.

    Returns the number of rows learned from (all but PA-I's zero rows); the time step
    t advances with them only, as in scikit-learn.
    """
    cdef const Settings* s = e.s
    cdef Output* outs = e.outs
    cdef Py_ssize_t k_begin = e.k_begin, k_end = e.k_end, d = e.d, n_rows = e.n_rows
    cdef floating* coef = <floating*>e.coef
    cdef floating* avg_coef = <floating*>e.avg_coef
    cdef floating* q = <floating*>e.q
    cdef const floating* X_data = <const floating*>e.X_data
    cdef const index_t* X_indices = <const index_t*>e.X_indices
    cdef const index_t* X_indptr = <const index_t*>e.X_indptr
    cdef bint sparse = e.sparse
    cdef const floating* y = <const floating*>e.y
    cdef const floating* sw = <const floating*>e.sw
    cdef const double* pos_label = e.pos_label
    cdef const double* weight_pos = e.weight_pos
    cdef const double* weight_neg = e.weight_neg
    cdef const Py_ssize_t* order = e.order
    cdef double t0 = e.t0
    cdef bint check_signals = e.check_signals
    cdef int* interrupted = e.interrupted
    cdef double* scratch = e.scratch
    cdef Py_ssize_t r, i, k, nnz, j, yi, learned = 0
    cdef const floating* x
    cdef const index_t* idx = NULL
    cdef double xsq, yk, cw, t, dot, y_r, sw_r
    cdef bint per_coordinate = s.learning_rate >= ADAGRAD
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
        _prefetch_ahead(order, n_rows, r, X_data, X_indices, X_indptr, sparse, d)
        y_r = y[r]
        sw_r = 1.0 if sw == NULL else sw[r]
        if sparse:
            x = X_data + X_indptr[i]
            idx = X_indices + X_indptr[i]
            nnz = X_indptr[i + 1] - X_indptr[i]
        else:
            x = X_data + i * d
            nnz = d
        # ||x||^2, once per row for all outputs: the norm of w is kept up to date
        # from it, and the passive-aggressive steps divide by it (the
        # per-coordinate schedules need neither). Computed in the pass of the first
        # output's dot product, but first for PA-I (which skips zero rows) and a
        # multi-class loss (whose step computes the dot products).
        xsq = -1.0
        if per_coordinate:
            xsq = 0.0
        elif s.learning_rate == PA1 or loss_t is MultinomialLogLoss:
            xsq = _sqnorm(x, nnz)
        work += ROW_COST + nnz * (k_end - k_begin)
        if s.learning_rate == PA1 and xsq == 0.0:
            # scikit-learn skips a zero row entirely under PA-I (t does not advance)
            continue
        t = t0 + learned
        learned += 1
        if loss_t is MultinomialLogLoss:
            yi = <Py_ssize_t>y_r
            _step_multinomial(s, outs, k_end, coef, avg_coef, q, e.coordinates, d, x,
                              idx if sparse else <const index_t*>NULL, nnz, xsq, yi,
                              weight_pos[yi] * sw_r, t, scratch, scratch + k_end,
                              scratch + 2 * k_end)
        else:
            for k in range(k_begin, k_end):
                o = &outs[k]
                if not o.active:
                    continue
                if s.classification:
                    if y_r == pos_label[k]:
                        yk = 1.0
                        cw = weight_pos[k]
                    else:
                        yk = -1.0
                        cw = weight_neg[k]
                else:
                    yk = y_r
                    cw = 1.0
                if avg_coef != NULL:
                    aw = avg_coef + k * d
                if q != NULL:
                    qk = q + k * d
                if per_coordinate:
                    dot = 0.0
                elif xsq < 0.0:
                    dot = _dot_sq(coef + k * d, x, idx if sparse else <const index_t*>NULL,
                                  nnz, &xsq)
                else:
                    dot = _dot(coef + k * d, x, idx if sparse else <const index_t*>NULL,
                               nnz)
                _step(loss, s, o, coef + k * d, aw, qk, _shifted(e.coordinates, k * d), d, x,
                      idx if sparse else <const index_t*>NULL, nnz, xsq, dot, yk, cw,
                      sw_r, t)
    return learned


cdef inline void _shuffle(Py_ssize_t* order, Py_ssize_t n, uint32_t seed) noexcept nogil:
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


cdef inline Py_ssize_t _training_rows(const Py_ssize_t* order, Py_ssize_t n,
                               const unsigned char* validation_mask,
                               Py_ssize_t* train_order) noexcept nogil:
    """The rows of `order` not held out for validation, in that order."""
    cdef Py_ssize_t r, n_train = 0
    for r in range(n):
        if not validation_mask[order[r]]:
            train_order[n_train] = order[r]
            n_train += 1
    return n_train
