# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False
"""Vectorised loss kernels over arrays, built on the scalar kernels of _kernels.pxd.

Inputs arrive validated (contiguous, one float dtype, matching lengths) from
sklloss.losses._loss; what is checked here is what can only be seen element by
element, in the same pass that computes the result: labels and sample weights. A bad
element sets a bit in the returned flags and the caller raises.
"""
from cython cimport floating
from cython.parallel cimport prange

# Bits of the flags returned by the loops.
BAD_LABEL = 1
BAD_WEIGHT = 2
cdef int _BAD_LABEL = BAD_LABEL
cdef int _BAD_WEIGHT = BAD_WEIGHT

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
ELEMENTWISE_LOSSES = frozenset(_KINDS)


cdef inline floating* _data_or_null(floating[::1] array) noexcept:
    return NULL if array is None else &array[0]


cdef int _elementwise_loop(
    loss_params_t params,
    const floating* y_true,
    const floating* raw,
    const floating* sample_weight,
    floating* loss_out,
    floating* gradient_out,
    Py_ssize_t n_samples,
    int n_threads,
) noexcept nogil:
    cdef Py_ssize_t i
    cdef int flags = 0
    cdef floating y, w
    for i in prange(n_samples, num_threads=n_threads, schedule="static"):
        y = y_true[i]
        if is_margin_loss(params):
            # {-1, +1} and {0, 1} labels: 0 and -1 both mean the negative class.
            if y > 0:
                if y != 1:
                    flags |= _BAD_LABEL
                y = 1
            else:
                if y != 0 and y != -1:  # NaN lands here too
                    flags |= _BAD_LABEL
                y = -1
        elif not (y - y == 0):  # NaN or +-inf (exact without -ffast-math)
            flags |= _BAD_LABEL
        if loss_out != NULL and gradient_out != NULL:
            loss_out[i] = loss_value_grad(params, y, raw[i], &gradient_out[i])
        elif loss_out != NULL:
            loss_out[i] = loss_value(params, y, raw[i])
        else:
            gradient_out[i] = loss_grad(params, y, raw[i])
        if sample_weight != NULL:
            w = sample_weight[i]
            if not (w - w == 0):
                flags |= _BAD_WEIGHT
            if loss_out != NULL:
                loss_out[i] = w * loss_out[i]
            if gradient_out != NULL:
                gradient_out[i] = w * gradient_out[i]
    return flags


cdef int _dispatch(
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
        return _elementwise_loop(squared_error, y_true, raw, sample_weight, loss_out, gradient_out,
                                 n_samples, n_threads)
    elif kind == HUBER:
        return _elementwise_loop(huber, y_true, raw, sample_weight, loss_out,
                                 gradient_out, n_samples, n_threads)
    elif kind == EPSILON_INSENSITIVE:
        return _elementwise_loop(epsilon_insensitive, y_true, raw, sample_weight, loss_out,
                                 gradient_out, n_samples, n_threads)
    elif kind == SQUARED_EPSILON_INSENSITIVE:
        return _elementwise_loop(squared_epsilon_insensitive, y_true, raw, sample_weight, loss_out,
                                 gradient_out, n_samples, n_threads)
    elif kind == LOGISTIC:
        return _elementwise_loop(logistic, y_true, raw, sample_weight, loss_out,
                                 gradient_out, n_samples, n_threads)
    elif kind == HINGE:
        return _elementwise_loop(hinge, y_true, raw, sample_weight, loss_out,
                                 gradient_out, n_samples, n_threads)
    elif kind == PERCEPTRON:
        return _elementwise_loop(perceptron, y_true, raw, sample_weight, loss_out,
                                 gradient_out, n_samples, n_threads)
    elif kind == SQUARED_HINGE:
        return _elementwise_loop(squared_hinge, y_true, raw, sample_weight, loss_out,
                                 gradient_out, n_samples, n_threads)
    else:
        return _elementwise_loop(modified_huber, y_true, raw, sample_weight, loss_out,
                                 gradient_out, n_samples, n_threads)


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
    Returns the flags (BAD_LABEL, BAD_WEIGHT) of what was seen.
    """
    cdef LossKind kind = _KINDS[name]
    cdef Py_ssize_t n_samples = y_true.shape[0]
    cdef const floating* sw = NULL if sample_weight is None else &sample_weight[0]
    cdef floating* loss_ptr = _data_or_null(loss_out)
    cdef floating* gradient_ptr = _data_or_null(gradient_out)
    cdef int flags
    if n_samples == 0:
        return 0
    with nogil:
        flags = _dispatch(kind, epsilon, &y_true[0], &raw_prediction[0], sw,
                          loss_ptr, gradient_ptr, n_samples, n_threads)
    return flags


def multinomial(
    const floating[::1] y_true,
    const floating[:, ::1] raw_prediction,
    const floating[::1] sample_weight,
    floating[::1] loss_out,
    floating[:, ::1] gradient_out,
    int n_threads,
):
    """Per-sample multinomial loss and/or its (n_samples, n_classes) derivative.

    Classes are the integers 0 .. n_classes - 1, stored as floats. Returns flags as
    `elementwise` does.
    """
    cdef Py_ssize_t n_samples = raw_prediction.shape[0]
    cdef Py_ssize_t n_classes = raw_prediction.shape[1]
    cdef Py_ssize_t i, k, label
    cdef const floating* sw = NULL if sample_weight is None else &sample_weight[0]
    cdef floating* loss_ptr = _data_or_null(loss_out)
    cdef floating* gradient_ptr = NULL
    cdef floating y, w, value
    cdef int flags = 0
    if n_samples == 0 or n_classes == 0:
        return 0
    if gradient_out is not None:
        gradient_ptr = &gradient_out[0, 0]
    with nogil:
        for i in prange(n_samples, num_threads=n_threads, schedule="static"):
            y = y_true[i]
            # Compare before casting: a NaN or out-of-range float to integer is undefined.
            if not (y >= 0 and y < n_classes) or y != <Py_ssize_t>y:
                flags |= _BAD_LABEL
                label = 0  # the result is discarded: the caller raises
            else:
                label = <Py_ssize_t>y
            if gradient_ptr != NULL:
                value = loss_grad_multinomial(&raw_prediction[i, 0], n_classes, label,
                                              gradient_ptr + i * n_classes)
            else:
                value = loss_multinomial(&raw_prediction[i, 0], n_classes, label)
            if sw != NULL:
                w = sw[i]
                if not (w - w == 0):
                    flags |= _BAD_WEIGHT
                value = w * value
                if gradient_ptr != NULL:
                    for k in range(n_classes):
                        gradient_ptr[i * n_classes + k] *= w
            if loss_ptr != NULL:
                loss_ptr[i] = value
    return flags
