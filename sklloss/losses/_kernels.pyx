# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False
"""Vectorised loss kernels over arrays, built on the scalar kernels of _kernels.pxd.

Inputs arrive validated (contiguous, one float dtype, matching lengths) from
sklloss.losses._loss; what is checked here is what can only be seen element by
element, in the same pass that computes the result: labels, NaN raw predictions and
sample weights. A loop only reports whether it saw a bad element; the caller then
finds which (in numpy: this path is taken only on error) and raises.
"""
from cython cimport floating
from cython.parallel cimport prange
from libc.math cimport copysign, copysignf

cdef enum LossKind:
    SQUARED_ERROR
    HUBER
    EPSILON_INSENSITIVE
    SQUARED_EPSILON_INSENSITIVE
    LOGISTIC
    HINGE
    PERCEPTRON
    SQUARED_HINGE
    MODIFIED_HUBER

_KINDS = {
    "squared_error": SQUARED_ERROR,
    "huber": HUBER,
    "epsilon_insensitive": EPSILON_INSENSITIVE,
    "squared_epsilon_insensitive": SQUARED_EPSILON_INSENSITIVE,
    "log_loss": LOGISTIC,
    "hinge": HINGE,
    "perceptron": PERCEPTRON,
    "squared_hinge": SQUARED_HINGE,
    "modified_huber": MODIFIED_HUBER,
}


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
    loss_params_t params,
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
    if is_margin_loss(params):
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
        loss_out[i] = loss_value(params, y, raw_i)
    elif mode_t is GradientOnly:
        gradient_out[i] = loss_grad(params, y, raw_i)
    else:
        loss_out[i] = loss_value_grad(params, y, raw_i, &gradient_out[i])
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
    loss_params_t params,
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
        bad = True if _elementwise_one(mode, params, y_true, raw, loss_out,
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
    loss_params_t params,
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
        n_bad += _elementwise_chunk(mode, params, y_true, raw, sample_weight, loss_out,
                                    gradient_out, chunk * CHUNK,
                                    min((chunk + 1) * CHUNK, n_samples))
    return n_bad


cdef Py_ssize_t _dispatch_mode(
    loss_params_t params,
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
        return _elementwise_loop(loss_only, params, y_true, raw, sample_weight, loss_out,
                                 gradient_out, n_samples, n_threads)
    elif loss_out == NULL:
        return _elementwise_loop(gradient_only, params, y_true, raw, sample_weight,
                                 loss_out, gradient_out, n_samples, n_threads)
    return _elementwise_loop(loss_and_gradient, params, y_true, raw, sample_weight,
                             loss_out, gradient_out, n_samples, n_threads)


cdef Py_ssize_t _dispatch(
    LossKind kind,
    double epsilon,
    const floating* y_true,
    const floating* raw,
    const floating* sample_weight,
    floating* loss_out,
    floating* gradient_out,
    Py_ssize_t n_samples,
    int n_threads,
) noexcept nogil:
    cdef SquaredErrorParams squared_error
    cdef HuberParams huber
    cdef EpsilonInsensitiveParams epsilon_insensitive
    cdef SquaredEpsilonInsensitiveParams squared_epsilon_insensitive
    cdef LogisticParams logistic
    cdef HingeParams hinge
    cdef PerceptronParams perceptron
    cdef SquaredHingeParams squared_hinge
    cdef ModifiedHuberParams modified_huber
    huber.epsilon = epsilon
    epsilon_insensitive.epsilon = epsilon
    squared_epsilon_insensitive.epsilon = epsilon
    if kind == SQUARED_ERROR:
        return _dispatch_mode(squared_error, y_true, raw, sample_weight,
                              loss_out, gradient_out, n_samples, n_threads)
    elif kind == HUBER:
        return _dispatch_mode(huber, y_true, raw, sample_weight,
                              loss_out, gradient_out, n_samples, n_threads)
    elif kind == EPSILON_INSENSITIVE:
        return _dispatch_mode(epsilon_insensitive, y_true, raw, sample_weight,
                              loss_out, gradient_out, n_samples, n_threads)
    elif kind == SQUARED_EPSILON_INSENSITIVE:
        return _dispatch_mode(squared_epsilon_insensitive, y_true, raw, sample_weight,
                              loss_out, gradient_out, n_samples, n_threads)
    elif kind == LOGISTIC:
        return _dispatch_mode(logistic, y_true, raw, sample_weight,
                              loss_out, gradient_out, n_samples, n_threads)
    elif kind == HINGE:
        return _dispatch_mode(hinge, y_true, raw, sample_weight,
                              loss_out, gradient_out, n_samples, n_threads)
    elif kind == PERCEPTRON:
        return _dispatch_mode(perceptron, y_true, raw, sample_weight,
                              loss_out, gradient_out, n_samples, n_threads)
    elif kind == SQUARED_HINGE:
        return _dispatch_mode(squared_hinge, y_true, raw, sample_weight,
                              loss_out, gradient_out, n_samples, n_threads)
    else:
        return _dispatch_mode(modified_huber, y_true, raw, sample_weight,
                              loss_out, gradient_out, n_samples, n_threads)


def elementwise(
    str name,
    double epsilon,
    const floating[::1] y_true,
    const floating[::1] raw_prediction,
    const floating[::1] sample_weight,
    floating[::1] loss_out,
    floating[::1] gradient_out,
    int n_threads,
):
    """Per-sample loss and/or derivative of the loss `name`, weighted if asked.

    `loss_out` or `gradient_out` (or both) receive the results; the other may be None.
    Returns True when some input was bad (a NaN raw prediction, a non-finite target,
    a binary label outside {-1, 0, +1}, a non-finite weight): the caller must then
    find which and raise, the outputs are not to be used.
    """
    cdef LossKind kind = _KINDS[name]
    cdef Py_ssize_t n_samples = y_true.shape[0]
    cdef const floating* sw = NULL if sample_weight is None else &sample_weight[0]
    cdef floating* loss_ptr = _data_or_null(loss_out)
    cdef floating* gradient_ptr = _data_or_null(gradient_out)
    cdef Py_ssize_t n_bad
    if n_samples == 0:
        return False
    with nogil:
        n_bad = _dispatch(kind, epsilon, &y_true[0], &raw_prediction[0], sw,
                          loss_ptr, gradient_ptr, n_samples, n_threads)
    return n_bad != 0


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
        value = loss_grad_multinomial(raw, n_classes, label, gradient_out)
    else:
        value = loss_multinomial(raw, n_classes, label)
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


def multinomial(
    const floating[::1] y_true,
    const floating[:, ::1] raw_prediction,
    const floating[::1] sample_weight,
    floating[::1] loss_out,
    floating[:, ::1] gradient_out,
    int n_threads,
):
    """Per-sample multinomial loss and/or its (n_samples, n_classes) derivative.

    Classes are the integers 0 .. n_classes - 1, stored as floats. Returns True when
    some input was bad, as `elementwise` does.
    """
    cdef Py_ssize_t n_samples = raw_prediction.shape[0]
    cdef Py_ssize_t n_classes = raw_prediction.shape[1]
    cdef Py_ssize_t i
    cdef const floating* raw = NULL
    cdef const floating* sw = NULL if sample_weight is None else &sample_weight[0]
    cdef floating* loss_ptr = _data_or_null(loss_out)
    cdef floating* gradient_ptr = NULL
    cdef Py_ssize_t n_bad = 0
    if n_samples == 0 or n_classes == 0:
        return False
    raw = &raw_prediction[0, 0]
    if gradient_out is not None:
        gradient_ptr = &gradient_out[0, 0]
    with nogil:
        for i in prange(n_samples, num_threads=n_threads, schedule="static"):
            n_bad += _multinomial_one(
                y_true[i], raw + i * n_classes, n_classes,
                NULL if sw == NULL else sw + i,
                NULL if loss_ptr == NULL else loss_ptr + i,
                NULL if gradient_ptr == NULL else gradient_ptr + i * n_classes,
            )
    return n_bad != 0


def _exp_array(const floating[::1] x, floating[::1] out):
    """exp of every element by the kernels' own exp (exposed for its accuracy tests)."""
    cdef Py_ssize_t i
    with nogil:
        for i in range(x.shape[0]):
            out[i] = _exp(x[i])
