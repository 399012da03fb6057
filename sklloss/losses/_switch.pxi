# The ONE code -> kernel switch: from a loss's kernel code (LossCode) and parameter
# record to compiled code specialised for that loss.
#
# It is shared, as text, by the two places that run losses over data: the array
# kernels (sklloss/losses/_kernels.pyx) and the SGD engine
# (sklloss/linear_model/_engine.pyx). Each includes this file after declaring
#
#     ctypedef ... Job               # what its work needs (pointers, sizes)
#     ctypedef fused precision_t:    # what else its work is compiled for (float
#         ...                        # type, index type): one type per combination
#     cdef Py_ssize_t with_loss(loss_t loss, const precision_t* precision,
#                               Job* job) noexcept nogil
#
# its work for one loss, compiled once per loss type and precision type (`precision`
# is a NULL pointer whose type selects the specialisation). A code the switch does not
# know returns UNKNOWN_LOSS, which the callers turn into an error: it never runs
# another loss. (Cython has no generic functions to pass a `with_loss` as an
# argument; a textual include is how one switch serves both.)
#
# Adding a loss: its LossCode and type in _kernels.pxd, and one line here.

cdef Py_ssize_t switch_loss(int code, const LossParams* params,
                            const precision_t* precision, Job* job) noexcept nogil:
    if code == SQUARED_ERROR:
        return with_loss(SquaredError(params[0]), precision, job)
    elif code == HUBER:
        return with_loss(Huber(params[0]), precision, job)
    elif code == EPSILON_INSENSITIVE:
        return with_loss(EpsilonInsensitive(params[0]), precision, job)
    elif code == SQUARED_EPSILON_INSENSITIVE:
        return with_loss(SquaredEpsilonInsensitive(params[0]), precision, job)
    elif code == LOG_LOSS:
        return with_loss(LogLoss(params[0]), precision, job)
    elif code == HINGE:
        return with_loss(Hinge(params[0]), precision, job)
    elif code == PERCEPTRON:
        return with_loss(Perceptron(params[0]), precision, job)
    elif code == SQUARED_HINGE:
        return with_loss(SquaredHinge(params[0]), precision, job)
    elif code == MODIFIED_HUBER:
        return with_loss(ModifiedHuber(params[0]), precision, job)
    elif code == MULTINOMIAL_LOG_LOSS:
        return with_loss(MultinomialLogLoss(params[0]), precision, job)
    elif code == POISSON:
        return with_loss(Poisson(params[0]), precision, job)
    elif code == GAMMA:
        return with_loss(Gamma(params[0]), precision, job)
    elif code == TWEEDIE:
        return with_loss(Tweedie(params[0]), precision, job)
    elif code == QUANTILE:
        return with_loss(Quantile(params[0]), precision, job)
    elif code == ABSOLUTE_ERROR:
        return with_loss(AbsoluteError(params[0]), precision, job)
    return UNKNOWN_LOSS
