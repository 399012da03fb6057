# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False
"""Vectorised loss kernels over arrays, built on the scalar kernels of _kernels.pxd.

A loss arrives as its kernel code and parameter record (what the loss classes of
sklloss.losses declare) and is dispatched by the one switch of _switch.pxi.

Inputs arrive validated (contiguous, one float dtype, matching lengths) from
sklloss.losses._loss; what is checked here is what can only be seen element by
element, in the same pass that computes the result: labels, NaN raw predictions and
sample weights. A loop only reports whether it saw a bad element; the caller then
finds which (in numpy: this path is taken only on error) and raises.
"""
from cython cimport floating
from cython.parallel cimport prange
from libc.math cimport copysign, copysignf

cdef inline floating* _data_or_null(floating[::1] array) noexcept:
    return NULL if array is None else &array[0]


# What a loop computes, as a type: a loop fused over `mode_t` is compiled once per
# mode, so the choice costs nothing per element.
ctypedef struct LossOnly:
    char unused
ctypedef struct GradientOnly:
    char unused
ctypedef struct LossAndGradient:
    char unused

ctypedef fused mode_t:
    LossOnly
    GradientOnly
    LossAndGradient


cdef inline floating _copysign(floating magnitude, floating sign) noexcept nogil:
    if floating is float:
        return copysignf(magnitude, sign)
    else:
        return copysign(magnitude, sign)


cdef inline bint _elementwise_one(
    mode_t mode,
    loss_t loss,
    const floating* y_true,
    const floating* raw,
    floating* loss_out,
    floating* gradient_out,
    Py_ssize_t i,
) noexcept nogil:
    """Store the loss and/or derivative of sample i; True if its input is bad.

    Bad: a NaN raw prediction, a non-finite regression target, a binary label outside
    {-1, 0, +1}. Checked with comparisons combined bitwise, not with ifs, so that the
    compiler can if-convert and vectorise the loop.
    """
    cdef floating y = y_true[i]
    cdef floating raw_i = raw[i]
    cdef bint bad
    if is_margin_loss(loss):
        # {-1, +1} and {0, 1} labels: 0 and -1 both mean the negative class.
        # y^2 - |y| = |y| (|y| - 1) is 0 exactly for y in {-1, 0, +1}; NaN for NaN
        # and +-inf (inf - inf), so those count as bad too.
        bad = (raw_i != raw_i) | (y * y - _fabs(y) != 0)
        # A sign copy, not a select: where the loop is not vectorised (log_loss calls
        # exp), GCC turns a select -- or anything it can prove is +-1 -- into a branch
        # that random labels mispredict half the time. y - 0.5 is < 0 for -1 and 0.
        y = _copysign(1, y - <floating>0.5)
    else:
        bad = (raw_i != raw_i) | (y - y != 0)  # y - y: NaN for NaN and +-inf, exactly
    if mode_t is LossOnly:
        loss_out[i] = loss_of(loss, y, raw_i)
    elif mode_t is GradientOnly:
        gradient_out[i] = grad_of(loss, y, raw_i)
    else:
        loss_out[i] = loss_grad_of(loss, y, raw_i, &gradient_out[i])
    return bad


cdef inline bint _weigh_one(mode_t mode, const floating* sample_weight, floating* loss_out,
                            floating* gradient_out, Py_ssize_t i) noexcept nogil:
    """Multiply the outputs of sample i by its weight; True if it is not finite."""
    cdef floating w = sample_weight[i]
    if mode_t is not GradientOnly:
        loss_out[i] = w * loss_out[i]
    if mode_t is not LossOnly:
        gradient_out[i] = w * gradient_out[i]
    return w - w != 0


cdef bint _elementwise_chunk(
    mode_t mode,
    loss_t loss,
    const floating* y_true,
    const floating* raw,
    const floating* sample_weight,
    floating* loss_out,
    floating* gradient_out,
    Py_ssize_t start,
    Py_ssize_t stop,
) noexcept nogil:
    # A plain loop, with "bad" kept as a conditional select: GCC 12 vectorises that,
    # but neither an integer OR nor a sum of flags computed from float comparisons
    # (and a variable assigned in a prange body becomes lastprivate, which also stops
    # vectorisation: hence chunks, with the prange over them).
    cdef Py_ssize_t i
    cdef bint bad = False
    for i in range(start, stop):
        bad = True if _elementwise_one(mode, loss, y_true, raw, loss_out,
                                       gradient_out, i) else bad
    # Weights in a second pass over the chunk, still in cache: it keeps the loop above
    # identical for the weighted and the unweighted case.
    if sample_weight != NULL:
        for i in range(start, stop):
            bad = True if _weigh_one(mode, sample_weight, loss_out, gradient_out,
                                     i) else bad
    return bad


cdef enum:
    CHUNK = 8192  # samples per task of the parallel loop


cdef Py_ssize_t _elementwise_loop(
    mode_t mode,
    loss_t loss,
    const floating* y_true,
    const floating* raw,
    const floating* sample_weight,
    floating* loss_out,
    floating* gradient_out,
    Py_ssize_t n_samples,
    int n_threads,
) noexcept nogil:
    cdef Py_ssize_t chunk
    cdef Py_ssize_t n_chunks = (n_samples + CHUNK - 1) // CHUNK
    cdef Py_ssize_t n_bad = 0
    for chunk in prange(n_chunks, num_threads=n_threads, schedule="static"):
        n_bad += _elementwise_chunk(mode, loss, y_true, raw, sample_weight, loss_out,
                                    gradient_out, chunk * CHUNK,
                                    min((chunk + 1) * CHUNK, n_samples))
    return n_bad


cdef Py_ssize_t _dispatch_mode(
    loss_t loss,
    const floating* y_true,
    const floating* raw,
    const floating* sample_weight,
    floating* loss_out,
    floating* gradient_out,
    Py_ssize_t n_samples,
    int n_threads,
) noexcept nogil:
    cdef LossOnly loss_only
    cdef GradientOnly gradient_only
    cdef LossAndGradient loss_and_gradient
    if gradient_out == NULL:
        return _elementwise_loop(loss_only, loss, y_true, raw, sample_weight, loss_out,
                                 gradient_out, n_samples, n_threads)
    elif loss_out == NULL:
        return _elementwise_loop(gradient_only, loss, y_true, raw, sample_weight,
                                 loss_out, gradient_out, n_samples, n_threads)
    return _elementwise_loop(loss_and_gradient, loss, y_true, raw, sample_weight,
                             loss_out, gradient_out, n_samples, n_threads)


cdef inline bint _multinomial_one(
    floating y,
    const floating* raw,
    Py_ssize_t n_classes,
    const floating* sample_weight,
    floating* loss_out,
    floating* gradient_out,
) noexcept nogil:
    """Loss and/or derivative of one row; True if its input is bad."""
    cdef Py_ssize_t k, label
    cdef floating value, w
    cdef bint bad = False
    # Compare before casting: casting NaN or an out-of-range float is undefined.
    if not (y >= 0 and y < n_classes) or y != <Py_ssize_t>y:
        bad = True
        label = 0  # keeps the indexing in bounds; the caller raises
    else:
        label = <Py_ssize_t>y
    if gradient_out != NULL:
        value = loss_grad_multinomial_log_loss(raw, n_classes, label, gradient_out)
    else:
        value = loss_multinomial_log_loss(raw, n_classes, label)
    if value != value:  # a NaN, or inf - inf from an infinite raw prediction
        bad = True
    if sample_weight != NULL:
        w = sample_weight[0]
        if w - w != 0:
            bad = True
        value = w * value
        if gradient_out != NULL:
            for k in range(n_classes):
                gradient_out[k] = w * gradient_out[k]
    if loss_out != NULL:
        loss_out[0] = value
    return bad


cdef Py_ssize_t _multinomial_rows(
    const floating* y_true,
    const floating* raw,
    const floating* sample_weight,
    floating* loss_out,
    floating* gradient_out,
    Py_ssize_t n_samples,
    Py_ssize_t n_classes,
    int n_threads,
) noexcept nogil:
    cdef Py_ssize_t i
    cdef Py_ssize_t n_bad = 0
    for i in prange(n_samples, num_threads=n_threads, schedule="static"):
        n_bad += _multinomial_one(
            y_true[i], raw + i * n_classes, n_classes,
            NULL if sample_weight == NULL else sample_weight + i,
            NULL if loss_out == NULL else loss_out + i,
            NULL if gradient_out == NULL else gradient_out + i * n_classes,
        )
    return n_bad


# -- the switch ------------------------------------------------------------------------
ctypedef struct ArrayJob:
    const void* y_true          # (n_samples,)
    const void* raw             # (n_samples, n_outputs), C order
    const void* sample_weight   # (n_samples,) or NULL
    void* loss_out              # (n_samples,) or NULL
    void* gradient_out          # like raw, or NULL
    Py_ssize_t n_samples
    Py_ssize_t n_outputs        # K for a multi-class loss, else 1
    int n_threads

ctypedef ArrayJob Job

ctypedef fused precision_t:  # the arrays' float type
    float
    double

cdef enum:
    WRONG_OUTPUTS = -2  # an element-wise loss given K > 1 raw predictions per sample


cdef Py_ssize_t with_loss(loss_t loss, const precision_t* precision,
                          ArrayJob* job) noexcept nogil:
    """The per-sample results of `loss` over the job's arrays; the number of bad
    samples seen (or WRONG_OUTPUTS)."""
    cdef const precision_t* y_true = <const precision_t*>job.y_true
    cdef const precision_t* raw = <const precision_t*>job.raw
    cdef const precision_t* sample_weight = <const precision_t*>job.sample_weight
    cdef precision_t* loss_out = <precision_t*>job.loss_out
    cdef precision_t* gradient_out = <precision_t*>job.gradient_out
    if loss_t is MultinomialLogLoss:
        return _multinomial_rows(y_true, raw, sample_weight, loss_out, gradient_out,
                                 job.n_samples, job.n_outputs, job.n_threads)
    else:
        if job.n_outputs != 1:
            return WRONG_OUTPUTS
        return _dispatch_mode(loss, y_true, raw, sample_weight, loss_out, gradient_out,
                              job.n_samples, job.n_threads)


include "_switch.pxi"


cdef int grad_by_code(int code, const LossParams* params, double y, double raw,
                      double* gradient) noexcept nogil:
    """The derivative of the element-wise loss `code` at one point, in float64;
    UNKNOWN_LOSS (or WRONG_OUTPUTS for a multi-class loss) when it has none."""
    cdef ArrayJob job
    job.y_true = &y
    job.raw = &raw
    job.sample_weight = NULL
    job.loss_out = NULL
    job.gradient_out = gradient
    job.n_samples = 1
    job.n_outputs = 1
    job.n_threads = 1
    cdef Py_ssize_t status = switch_loss(code, params, <double*>NULL, &job)
    return <int>status if status < 0 else 0


def compute(
    int code,
    double epsilon,
    double quantile,
    double power,
    const floating[::1] y_true,
    const floating[::1] raw_prediction,
    Py_ssize_t n_outputs,
    const floating[::1] sample_weight,
    floating[::1] loss_out,
    floating[::1] gradient_out,
    int n_threads,
):
    """Per-sample loss and/or derivative of the loss with kernel `code` and parameter
    record (epsilon, quantile, power), weighted if asked.

    `raw_prediction` (and `gradient_out`) hold n_outputs values per sample, in C
    order. `loss_out` or `gradient_out` (or both) receive the results; the other may
    be None. Returns True when some input was bad (a NaN raw prediction, a
    non-finite target, a label the loss does not take, a non-finite weight, an
    infinite raw prediction of the multinomial loss): the caller must then find
    which and raise, the outputs are not to be used.
    """
    cdef ArrayJob job
    cdef LossParams params
    cdef Py_ssize_t n_bad
    params.epsilon = epsilon
    params.quantile = quantile
    params.power = power
    job.n_samples = y_true.shape[0]
    job.n_outputs = n_outputs
    if job.n_samples == 0 or n_outputs == 0:
        return False
    job.y_true = &y_true[0]
    job.raw = &raw_prediction[0]
    job.sample_weight = NULL if sample_weight is None else &sample_weight[0]
    job.loss_out = _data_or_null(loss_out)
    job.gradient_out = _data_or_null(gradient_out)
    job.n_threads = n_threads
    with nogil:
        n_bad = switch_loss(code, &params, &y_true[0], &job)
    if n_bad == UNKNOWN_LOSS:
        raise ValueError(f"No loss kernel has the code {code}.")
    if n_bad == WRONG_OUTPUTS:
        raise ValueError(f"The loss kernel {LossCode(code).name} takes one raw "
                         f"prediction per sample; got {n_outputs}.")
    return n_bad != 0


def _exp_array(const floating[::1] x, floating[::1] out):
    """exp of every element by the kernels' own exp (exposed for its accuracy tests)."""
    cdef Py_ssize_t i
    with nogil:
        for i in range(x.shape[0]):
            out[i] = _exp(x[i])
