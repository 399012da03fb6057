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
from libc.string cimport memcpy

from sklloss.losses._kernels cimport MultinomialLogLoss, loss_t
from sklloss.linear_model._rows cimport (
    _dot,
    _dot_sq,
    _prefetch,
    _prefetch_range,
    _sqnorm,
    _sum,
    index_t,
)
from sklloss.linear_model._settings cimport Settings
from sklloss.linear_model._steps cimport _step, _step_multinomial
from sklloss.linear_model._weights cimport Coordinates, Output

cdef extern from "Python.h":
    # Declared without an exception clause: the caller decides what to do.
    int _PyErr_CheckSignals "PyErr_CheckSignals"()

cdef extern from "sklloss/linear_model/_epoch.h":
    bint HAVE_ATOMICS "SKLLOSS_HAVE_ATOMICS"
    Py_ssize_t _load_acquire "SKLLOSS_LOAD_ACQUIRE"(Py_ssize_t* p) noexcept nogil
    void _store_release "SKLLOSS_STORE_RELEASE"(Py_ssize_t* p, Py_ssize_t v) noexcept nogil
    void _pause "SKLLOSS_PAUSE"() noexcept nogil
    void _nap "sklloss_nap"() noexcept nogil
    int _team_size "SKLLOSS_TEAM_SIZE"() noexcept nogil


cdef enum:
    # Pending signals (Ctrl-C) are looked at after about this much work:
    # multiply-adds (a row's non-zeros times the outputs it updates) plus ROW_COST per
    # row for its cache misses and bookkeeping. ~2^23 is a few milliseconds, whatever
    # the shape: tall narrow data checks every ~20k rows, a wide row or many classes
    # sooner.
    SIGNAL_CHECK_WORK = 1 << 23
    ROW_COST = 256
    # rows prefetched ahead in the shuffled order: enough for PREFETCH_BYTES, at
    # least PREFETCH_MIN_ROWS and at most PREFETCH_MAX_ROWS (_prefetch_rows)
    PREFETCH_BYTES = 1024
    PREFETCH_MIN_ROWS = 4
    PREFETCH_MAX_ROWS = 16
    # The pipeline (n_jobs=2 for one output): blocks of about BLOCK_BYTES of rows,
    # SLOTS of them gathered at most ahead of the epoch
    BLOCK_BYTES = 1 << 15
    SLOTS = 16
    SHUFFLE_AHEAD = 16  # draws of the shuffle made ahead (_shuffle)
    SPINS_BEFORE_NAP = 1 << 12  # the gathering thread's pauses before it sleeps


ctypedef struct Epoch:
    # A pass: the models that one thread updates on the epoch's rows, all of one loss
    # (`_epoch` is compiled per loss) and one kind of row loop (the flags below).
    int kernel                  # the loss's code (sklloss.losses._kernels.LossCode)
    Output* outs                # every output's weight state (Output.s: its settings)
    const Py_ssize_t* models    # the first output of each model the pass updates
    Py_ssize_t n_models
    Py_ssize_t width            # outputs per model: K for a multi-class loss, else 1
    bint multiclass             # the models are a multi-class loss's (K outputs each)
    bint per_coordinate         # the models' schedules are per-coordinate
    bint skips_zero_rows        # PA-I: rows with x = 0 are skipped
    bint classification         # y holds class codes (output k's positive: pos_label[k])
    void* coef                  # (K, d) weights v of all the outputs, X's float type
    void* avg_coef              # (K, d) running averages, or NULL
    void* q                     # (K, d) applied L1 penalties, or NULL
    double* buffer              # the thread's buffer for sparse rows of per-coordinate
                                # schedules (Coordinates.buffer), or NULL
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
    bint check_signals          # look for Ctrl-C (passes of the main thread)
    int* interrupted            # set to 1 when a signal arrived (shared by passes)
    double* scratch             # 3 K doubles for a multi-class loss, else NULL
    Py_ssize_t prefetch_rows    # rows prefetched ahead (_prefetch_rows)
    Py_ssize_t* work            # the work done since signals were last looked at
                                # (see SIGNAL_CHECK_WORK), carried from epoch to
                                # epoch (and block to block of a Pipeline)


cdef inline Py_ssize_t _prefetch_rows(Py_ssize_t row_bytes) noexcept nogil:
    """How many rows of row_bytes (a CSR matrix: on average) to prefetch ahead: short
    rows take little time each, so more of them must be in flight to hide a cache
    miss (measured: 12 rows of 10 float64 read 1.5x faster than 4)."""
    cdef Py_ssize_t rows = PREFETCH_BYTES // max(row_bytes, 1)
    return min(max(rows, PREFETCH_MIN_ROWS), PREFETCH_MAX_ROWS)


cdef inline void _prefetch_ahead(const Py_ssize_t* order, Py_ssize_t n_rows, Py_ssize_t r,
                                 const floating* X_data, const index_t* X_indices,
                                 const index_t* X_indptr, bint sparse,
                                 Py_ssize_t d, Py_ssize_t distance) noexcept nogil:
    """Prefetch the row `distance` rows ahead of row r of `order`. Shuffled rows miss
    the cache: fetch ahead, in two stages for a CSR row, whose address is itself in
    memory: the far row's row pointer first, then the near row's values and
    indices."""
    cdef Py_ssize_t ahead = r + 2 * distance, next_row, nnz
    if sparse and ahead < n_rows:
        _prefetch(X_indptr + order[ahead])
    ahead = r + distance
    if ahead < n_rows:
        next_row = order[ahead]
        if sparse:
            nnz = X_indptr[next_row + 1] - X_indptr[next_row]
            _prefetch_range(X_data + X_indptr[next_row], nnz * sizeof(floating))
            _prefetch_range(X_indices + X_indptr[next_row], nnz * sizeof(index_t))
        else:
            _prefetch_range(X_data + next_row * d, d * sizeof(floating))


cdef inline void _prefetch_weights(const floating* w, const index_t* X_indices,
                                   const index_t* X_indptr, Py_ssize_t i) noexcept nogil:
    """Prefetch the weights w that CSR row i updates."""
    cdef Py_ssize_t j
    for j in range(X_indptr[i], X_indptr[i + 1]):
        _prefetch(w + X_indices[j])


cdef inline void _gather(const Py_ssize_t* order, Py_ssize_t n_rows, const floating* values,
                         floating* in_order) noexcept nogil:
    """in_order[r] = values[order[r]]: a row's target and weight, read where the epoch
    reaches it in one pass of independent loads (the CPU overlaps their misses)
    instead of two more cache misses in every step; the epoch then reads them
    sequentially (for tall narrow X they cost as much as the row itself)."""
    cdef Py_ssize_t r
    for r in range(n_rows):
        if r + SHUFFLE_AHEAD < n_rows:
            _prefetch(values + order[r + SHUFFLE_AHEAD])
        in_order[r] = values[order[r]]


cdef inline double _read_row(Py_ssize_t i, const floating* X_data,
                             const index_t* X_indices, const index_t* X_indptr,
                             bint sparse, Py_ssize_t d) noexcept nogil:
    """Row i of X read whole: the sum of its values (and of a CSR row's indices), so
    that no read can be left out."""
    cdef Py_ssize_t j, nnz, index_total = 0
    if sparse:
        nnz = X_indptr[i + 1] - X_indptr[i]
        for j in range(nnz):
            index_total += X_indices[X_indptr[i] + j]
        return _sum(X_data + X_indptr[i], nnz) + index_total
    return _sum(X_data + i * d, d)


cdef inline double _read_rows(const Py_ssize_t* order, Py_ssize_t n_rows,
                              const floating* X_data, const index_t* X_indices,
                              const index_t* X_indptr, bint sparse,
                              Py_ssize_t d, Py_ssize_t distance) noexcept nogil:
    """The floor of an epoch: every row of `order` read once, in that order, with the
    epoch's prefetching (`distance` rows ahead), and nothing else."""
    cdef Py_ssize_t r
    cdef double total = 0.0
    for r in range(n_rows):
        _prefetch_ahead(order, n_rows, r, X_data, X_indices, X_indptr, sparse, d, distance)
        total += _read_row(order[r], X_data, X_indices, X_indptr, sparse, d)
    return total


ctypedef struct Pipeline:
    # One output's epoch in two threads (n_jobs=2): the rows of `order`, in blocks
    # of block_rows, are gathered into SLOTS buffers (a contiguous block of dense
    # rows, or a small CSR matrix) by a second thread while the epoch runs on the
    # blocks before; the epoch then reads memory in order instead of a row at a
    # random place in X. The epoch's thread never waits: a block not gathered yet
    # when it gets there, it reads from X itself (so the two threads share the
    # reading of X, and a gathering thread that is slow, or not running at all on a
    # busy machine, only costs its gain); the gathering thread then skips to the
    # blocks ahead of the epoch. Block g goes in slot g % SLOTS, once the epoch is
    # done with block g - SLOTS (only the gathering thread writes the slots).
    const Py_ssize_t* order
    Py_ssize_t n_rows
    Py_ssize_t block_rows
    Py_ssize_t n_blocks
    void* values                # SLOTS * slot_values values, X's float type
    void* indices               # CSR: SLOTS * slot_values indices, X's index type
    void* indptr                # CSR: SLOTS * (block_rows + 1) row pointers, idem
    Py_ssize_t slot_values
    Py_ssize_t prefetch_rows    # the epoch's prefetch distance (Epoch.prefetch_rows)
    Py_ssize_t consumed         # the blocks the epoch is done with
    Py_ssize_t ready[SLOTS]     # 1 + the block a slot holds once gathered
    Py_ssize_t stop             # the epoch is over (or interrupted): stop gathering


cdef inline void _wait(Py_ssize_t* spins) noexcept nogil:
    """One pause of the gathering thread, waiting for the epoch (and after a while a
    sleep instead, should the machine have other work for its core)."""
    if spins[0] < SPINS_BEFORE_NAP:
        spins[0] += 1
        _pause()
    else:
        _nap()


cdef inline void _gather_block(Pipeline* p, Py_ssize_t g, const floating* X_data,
                               const index_t* X_indices, const index_t* X_indptr,
                               bint sparse, Py_ssize_t d) noexcept nogil:
    """Copy the rows of block g into its slot, with the epoch's prefetching, and mark
    the slot ready."""
    cdef Py_ssize_t slot = g % SLOTS, r, i, nnz, at = 0
    cdef Py_ssize_t begin = g * p.block_rows, end = min(begin + p.block_rows, p.n_rows)
    cdef floating* values = <floating*>p.values + slot * p.slot_values
    cdef index_t* indices = NULL
    cdef index_t* indptr = NULL
    if sparse:
        indices = <index_t*>p.indices + slot * p.slot_values
        indptr = <index_t*>p.indptr + slot * (p.block_rows + 1)
        indptr[0] = 0
    for r in range(begin, end):
        _prefetch_ahead(p.order, p.n_rows, r, X_data, X_indices, X_indptr, sparse, d,
                        p.prefetch_rows)
        i = p.order[r]
        if sparse:
            nnz = X_indptr[i + 1] - X_indptr[i]
            memcpy(values + at, X_data + X_indptr[i], nnz * sizeof(floating))
            memcpy(indices + at, X_indices + X_indptr[i], nnz * sizeof(index_t))
            at += nnz
            indptr[r - begin + 1] = <index_t>at
        else:
            memcpy(values + (r - begin) * d, X_data + i * d, d * sizeof(floating))
    _store_release(&p.ready[slot], g + 1)


cdef inline void _gather_blocks(Pipeline* p, const floating* X_data,
                                const index_t* X_indices, const index_t* X_indptr,
                                bint sparse, Py_ssize_t d) noexcept nogil:
    """The gathering thread of a Pipeline: block after block ahead of the epoch (the
    epoch reads the blocks it reaches first itself: block 0, say), each as soon as
    its slot is free, until the last or until the epoch stops."""
    cdef Py_ssize_t g = 0, spins
    while True:
        g = max(g + 1, _load_acquire(&p.consumed) + 1)
        if g >= p.n_blocks:
            return
        spins = 0
        while _load_acquire(&p.consumed) < g - SLOTS + 1:
            if _load_acquire(&p.stop):
                return
            _wait(&spins)
        if _load_acquire(&p.stop):
            return
        _gather_block(p, g, X_data, X_indices, X_indptr, sparse, d)


cdef inline int _check_signals() noexcept with gil:
    return _PyErr_CheckSignals()


cdef inline Py_ssize_t _epoch(loss_t loss, const Epoch* e, const floating* precision,
                              const index_t* index_type) noexcept nogil:
    """One pass over the rows `e.order[0:e.n_rows]` for the models e.models, in the
    float type of `precision` and the index type of `index_type` (NULL pointers that
    select the specialisation). Every model of the pass has the loss `loss` (its own
    parameters: Output.s.params); each has its own settings and state.

    A multi-class loss (MultinomialLogLoss) trains a model's e.width outputs
    together, as the classes of one model: y holds class numbers, a row of class y
    weighs weight_pos[k + y] (the weight of output k + y's positive class, k the
    model's first output), and e.scratch holds 3 K doubles.

    Returns the number of rows learned from (all but PA-I's zero rows); the time step
    t advances with them only, as in scikit-learn.
    """
    cdef Output* outs = e.outs
    cdef const Py_ssize_t* models = e.models
    cdef Py_ssize_t n_models = e.n_models, width = e.width, d = e.d, n_rows = e.n_rows
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
    cdef bint per_coordinate = e.per_coordinate
    cdef bint skips_zero_rows = e.skips_zero_rows
    cdef bint classification = e.classification
    cdef Py_ssize_t r, i, m, k, nnz, yi, learned = 0
    cdef const floating* x
    cdef const index_t* idx = NULL
    cdef double xsq, yk, cw, t, dot, y_r, sw_r
    cdef Output* o
    cdef const Settings* s
    cdef Coordinates c
    cdef floating* aw = NULL
    cdef floating* qk = NULL
    cdef Py_ssize_t work = e.work[0]
    cdef Py_ssize_t half_distance = max(1, e.prefetch_rows // 2)
    # (one output of short rows only: for K outputs, K times the row's prefetches
    # cost more than they save, and so do a long row's, whose weights' misses
    # overlap each other anyway; measured at 300 non-zeros: 18% of the epoch in
    # those prefetches)
    cdef bint prefetch_weights = (n_models == 1 and width == 1
                                  and loss_t is not MultinomialLogLoss
                                  and e.prefetch_rows > PREFETCH_MIN_ROWS)
    for r in range(n_rows):
        if work >= SIGNAL_CHECK_WORK:
            work = 0
            if check_signals and _check_signals() != 0:
                interrupted[0] = 1
            if interrupted[0]:
                break
        i = order[r]
        _prefetch_ahead(order, n_rows, r, X_data, X_indices, X_indptr, sparse, d,
                        e.prefetch_rows)
        if sparse and prefetch_weights and r + half_distance < n_rows:
            # a CSR row's weights are at random places in w too: prefetch them for a
            # row nearer ahead, whose indices have arrived by now
            _prefetch_weights(coef + models[0] * d, X_indices, X_indptr,
                              order[r + half_distance])
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
        elif skips_zero_rows or loss_t is MultinomialLogLoss:
            xsq = _sqnorm(x, nnz)
        work += ROW_COST + nnz * n_models * width
        if skips_zero_rows and xsq == 0.0:
            # scikit-learn skips a zero row entirely under PA-I (t does not advance)
            continue
        t = t0 + learned
        learned += 1
        for m in range(n_models):
            k = models[m]
            o = &outs[k]
            if not o.active:
                continue
            s = o.s
            loss.params = s.params
            aw = avg_coef + k * d if avg_coef != NULL and s.average > 0 else NULL
            qk = q + k * d if q != NULL and s.tracks_l1 and not s.per_coordinate else NULL
            c = o.coordinates
            c.buffer = e.buffer
            if loss_t is MultinomialLogLoss:
                yi = <Py_ssize_t>y_r
                _step_multinomial(s, o, width, coef + k * d, aw, qk, c, d, x,
                                  idx if sparse else <const index_t*>NULL, nnz, xsq, yi,
                                  weight_pos[k + yi] * sw_r, t, scratch, scratch + width,
                                  scratch + 2 * width)
            else:
                if classification:
                    if y_r == pos_label[k]:
                        yk = 1.0
                        cw = weight_pos[k]
                    else:
                        yk = -1.0
                        cw = weight_neg[k]
                else:
                    yk = y_r
                    cw = 1.0
                if per_coordinate:
                    dot = 0.0
                elif xsq < 0.0:
                    dot = _dot_sq(coef + k * d, x, idx if sparse else <const index_t*>NULL,
                                  nnz, &xsq)
                else:
                    dot = _dot(coef + k * d, x, idx if sparse else <const index_t*>NULL, nnz)
                _step(loss, s, o, coef + k * d, aw, qk, c, d, x,
                      idx if sparse else <const index_t*>NULL, nnz, xsq, dot, yk, cw, sw_r, t)
    e.work[0] = work
    return learned


cdef inline Py_ssize_t _draw(uint32_t* seed, Py_ssize_t i, Py_ssize_t n) noexcept nogil:
    """Step i's draw of scikit-learn's shuffle: the row swapped with row i."""
    if seed[0] == 0:
        seed[0] = 1
    seed[0] ^= <uint32_t>(seed[0] << 13)
    seed[0] ^= <uint32_t>(seed[0] >> 17)
    seed[0] ^= <uint32_t>(seed[0] << 5)
    return i + <Py_ssize_t>((seed[0] & 0x7FFFFFFFU) % <uint32_t>(n - i))


cdef inline void _shuffle(Py_ssize_t* order, Py_ssize_t n, uint32_t seed) noexcept nogil:
    """scikit-learn's Fisher-Yates shuffle (SequentialDataset.shuffle), draw for draw.

    Its generator is the xorshift `our_rand_r` of sklearn/utils/_random.pxd, restarted
    from the same seed at every epoch (the permutations compose). Using it gives the
    same row order as scikit-learn for the same random_state. The draws depend on
    the seed alone, so they are made SHUFFLE_AHEAD steps early and the entry each
    will swap is prefetched (a random place in `order`: for a million rows, a cache
    miss per step otherwise).
    """
    cdef Py_ssize_t ahead[SHUFFLE_AHEAD]
    cdef Py_ssize_t i, j, tmp, drawn = 0
    while drawn < SHUFFLE_AHEAD and drawn < n - 1:
        ahead[drawn] = _draw(&seed, drawn, n)
        _prefetch(order + ahead[drawn])
        drawn += 1
    for i in range(n - 1):
        j = ahead[i % SHUFFLE_AHEAD]
        if drawn < n - 1:
            ahead[drawn % SHUFFLE_AHEAD] = _draw(&seed, drawn, n)
            _prefetch(order + ahead[drawn % SHUFFLE_AHEAD])
            drawn += 1
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
