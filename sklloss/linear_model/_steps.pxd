# Step rules of the SGD engine: the learning rate at time t (constant, optimal,
# invscaling, adaptive) and one step on one row, of one output (scikit-learn's loop
# body, with the passive-aggressive steps PA-I / PA-II of Crammer et al., 2006, and
# the per-coordinate steps of _adaptive.pxd) or of the K outputs of a multi-class
# loss together.

from cython cimport floating
from libc.math cimport fabs, pow

from sklloss.losses._kernels cimport (
    is_log_link_loss,
    loss_grad_multinomial_log_loss,
    loss_grad_of,
    loss_t,
)
from sklloss.linear_model._rows cimport _dot, index_t
from sklloss.linear_model._adaptive cimport (
    _adaptive_apply,
    _adaptive_raw,
    _count_row,
)
from sklloss.linear_model._settings cimport (
    INVSCALING,
    NORMALIZED_ADAGRAD,
    NO_PENALTY,
    OPTIMAL,
    PA1,
    PA2,
    Settings,
)
from sklloss.linear_model._weights cimport Coordinates, Output, _apply


cdef inline double _clip_dloss(double dloss) noexcept nogil:
    # scikit-learn's clip of the loss derivative, at MAX_DLOSS = 1e12
    if dloss < -1e12:
        return -1e12
    elif dloss > 1e12:
        return 1e12
    return dloss


cdef inline double _eta(const Settings* s, const Output* o, double t) noexcept nogil:
    """The learning rate at time step t (times the loss's step scale: 1 but for the
    log-link losses, see sklloss.losses.Poisson)."""
    if s.learning_rate == OPTIMAL:
        return s.step_scale / (s.alpha * (s.optimal_init + t - 1.0))
    elif s.learning_rate == INVSCALING:
        return s.step_scale * s.eta0 / pow(t, s.power_t)
    return s.step_scale * o.eta


cdef inline double _bounded_log_step(const Settings* s, double update,
                                     double xsq) noexcept nogil:
    """`update` (w += update x, b += update * intercept_decay) shrunk so that it changes
    the row's raw prediction by at most 1 (a factor e in the predicted mean). Under a
    log link the derivative grows like exp(raw): one unbounded step on a row
    predicted far too low could multiply its mean, and the next derivative, by
    exp(hundreds). A trust region on the log of the mean, not a clip of the
    derivative: the direction is kept, and a step that small is taken unchanged
    (near the optimum, every step). (The L2 shrinkage of the same step only moves
    the raw prediction towards the intercept.)"""
    cdef double change = fabs(update) * (xsq + (s.intercept_decay if s.fit_intercept
                                                 else 0.0))
    if change > 1.0:
        return update / change
    return update


cdef inline double _raw(const Settings* s, Output* o, double dot,
                        double* p_lin) noexcept nogil:
    """The raw prediction <w, x> + b from dot = <v, x> of the stored weights
    (w = wscale v); stores <w, x> in p_lin."""
    p_lin[0] = dot * o.wscale
    return _in_range(s, o, p_lin[0] + o.intercept)


cdef inline double _in_range(const Settings* s, Output* o, double p) noexcept nogil:
    """p, a raw prediction; a p beyond the float type's range marks a divergence."""
    if not fabs(p) <= s.float_max:  # (NaN too) the model's predictions would overflow
        o.overflow = True
    return p


cdef inline Coordinates _shifted(Coordinates c, Py_ssize_t offset) noexcept nogil:
    """The per-coordinate state `offset` entries on (another output's)."""
    if c.root != NULL:
        c.root += offset
    if c.inv_scale != NULL:
        c.inv_scale += offset
    if c.last != NULL:
        c.last += offset
    return c


cdef inline double _penalty(const Settings* s, const Output* o) noexcept nogil:
    """The penalty of the weights whose norms o holds."""
    if s.penalty == NO_PENALTY:
        return 0.0
    # SGD minimises alpha * ((1 - l1_ratio) / 2 ||w||^2 + l1_ratio ||w||_1)
    return s.alpha * ((1.0 - s.l1_ratio) * 0.5 * o.sq_norm + s.l1_ratio * o.l1_norm)


cdef inline void _add_penalty(const Settings* s, Output* o) noexcept nogil:
    """Adds the penalty of the weights before the step to the objective (after the
    loss, in scikit-learn's order, so that the sums round alike)."""
    if not s.passive_aggressive and s.penalty != NO_PENALTY:
        o.objective += _penalty(s, o)


cdef inline void _step(loss_t loss, const Settings* s, Output* o,
                       floating* w, floating* aw, floating* q, Coordinates c, Py_ssize_t d,
                       const floating* x, const index_t* idx, Py_ssize_t nnz,
                       double xsq, double dot, double yk, double class_weight,
                       double sample_weight, double t) noexcept nogil:
    """One step of output o on row x of target yk. `dot` is <v, x> of its stored
    weights (the caller computes it, with ||x||^2 in the same pass), unused by the
    per-coordinate schedules, which compute their own."""
    cdef double p_lin, p, eta, value, dloss, update, row_norm

    if s.per_coordinate:
        p = _in_range(s, o, _adaptive_raw(s, o, w, aw, c, x, idx, nnz, t, &row_norm)
                      + o.intercept)
        value = loss_grad_of(loss, yk, p, &dloss)
        o.sumloss += value
        o.objective += value  # (the penalty: once per epoch, by the driver)
        if s.learning_rate == NORMALIZED_ADAGRAD:
            _count_row(s, o, class_weight * sample_weight, row_norm)
        _adaptive_apply(s, o, w, aw, c, x, idx, nnz,
                        _clip_dloss(dloss) * class_weight * sample_weight, t, True)
        return

    p = _raw(s, o, dot, &p_lin)
    eta = _eta(s, o, t)
    value = loss_grad_of(loss, yk, p, &dloss)
    o.sumloss += value
    o.objective += value
    _add_penalty(s, o)
    if s.one_class:
        # the one-class SVM's term nu * b of the intercept before the step (alpha is nu)
        o.objective += o.intercept * s.alpha

    if s.learning_rate == PA1:
        # (_epoch skips zero rows under PA-I, so xsq > 0 here)
        update = value / xsq
        if update > s.eta0:
            update = s.eta0
    elif s.learning_rate == PA2:
        update = value / (xsq + 0.5 / s.eta0)
    else:
        update = -eta * _clip_dloss(dloss)
    if s.learning_rate == PA1 or s.learning_rate == PA2:
        if s.classification:
            update *= yk
        elif yk - p < 0:
            update = -update
    update *= class_weight * sample_weight
    if is_log_link_loss(loss):
        update = _bounded_log_step(s, update, xsq)
    _apply(s, o, w, aw, q, d, x, idx, nnz, xsq, p_lin, eta, update, t)


cdef inline void _step_multinomial(const Settings* s, Output* outs, Py_ssize_t K,
                                   floating* coef, floating* avg_coef, floating* q,
                                   Coordinates c, Py_ssize_t d, const floating* x, const index_t* idx,
                                   Py_ssize_t nnz, double xsq, Py_ssize_t y,
                                   double weight, double t, double* raw, double* grad,
                                   double* p_lin) noexcept nogil:
    """One step of the K outputs of a softmax model on a row of class y: the K raw
    predictions, then the K derivatives of the categorical cross-entropy (one kernel
    call, in float64 like the other losses' steps), then each output's update. The
    row's loss is counted in outs[0]. `c` is output 0's per-coordinate state (the
    others' follow, d apart)."""
    cdef Py_ssize_t k
    cdef double eta = _eta(s, &outs[0], t)
    cdef double loss
    if s.per_coordinate:
        for k in range(K):
            # (p_lin[k]: the row's normalised norm, the same for every output)
            raw[k] = _in_range(s, &outs[k], _adaptive_raw(
                s, &outs[k], coef + k * d, avg_coef + k * d if avg_coef != NULL else NULL,
                _shifted(c, k * d), x, idx, nnz, t, &p_lin[k]) + outs[k].intercept)
        loss = loss_grad_multinomial_log_loss(raw, K, y, grad)
        outs[0].sumloss += loss
        outs[0].objective += loss
        for k in range(K):
            if s.learning_rate == NORMALIZED_ADAGRAD:
                _count_row(s, &outs[k], weight, p_lin[k])
            _adaptive_apply(s, &outs[k], coef + k * d,
                            avg_coef + k * d if avg_coef != NULL else NULL,
                            _shifted(c, k * d), x, idx, nnz,
                            _clip_dloss(grad[k]) * weight, t, False)
        return
    for k in range(K):
        raw[k] = _raw(s, &outs[k], _dot(coef + k * d, x, idx, nnz), &p_lin[k])
    loss = loss_grad_multinomial_log_loss(raw, K, y, grad)
    outs[0].sumloss += loss
    outs[0].objective += loss
    for k in range(K):
        _add_penalty(s, &outs[k])
    for k in range(K):
        _apply(s, &outs[k], coef + k * d, avg_coef + k * d if avg_coef != NULL else NULL,
               q + k * d if q != NULL else NULL, d, x, idx, nnz, xsq, p_lin[k], eta,
               -eta * _clip_dloss(grad[k]) * weight, t)
