# The hyperparameters of one model as the engine's compiled code reads them: one
# record per model, built once per set of hyperparameters (_engine.ModelSettings);
# a fit of M models holds M of them, each output pointing at its model's
# (Output.s). The fields below the line are the fit's, copied into every model's
# record when a fit starts.

from sklloss.losses._kernels cimport LossParams

# Penalties and learning rates: the codes scikit-learn's engine uses, then sklloss's
# per-coordinate schedules (the Python names are _engine.PENALTIES and
# _engine.LEARNING_RATES). What a code means is decided once, when the record is
# built (_engine.ModelSettings: a code it does not know is an error), and kept in
# the flags below: the compiled code tests flags, never ranges of codes.
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
    ADAGRAD = 7             # per-coordinate steps (_adaptive.pxd)
    NORMALIZED_ADAGRAD = 8  # idem, on per-feature normalised updates


ctypedef struct Settings:
    # the loss: its kernel code (sklloss.losses._kernels.LossCode) and parameters
    int kernel
    LossParams params
    bint multiclass         # a multi-class loss: the model is K outputs, one per class
    # the penalty
    int penalty
    double alpha
    double l1_ratio
    double l1_strength      # alpha * l1_ratio: the L1 part of the penalty
    double l2_strength      # alpha * (1 - l1_ratio): the L2 part
    bint shrinks            # an L2 part (L2, ELASTICNET): w shrinks at every step
    bint tracks_l1          # an L1 part (L1, ELASTICNET): truncated gradient, ||w||_1
    # the schedule
    int learning_rate
    bint per_coordinate     # ADAGRAD, NORMALIZED_ADAGRAD (_adaptive.pxd)
    bint passive_aggressive # PA1, PA2
    bint skips_zero_rows    # PA1: a row with x = 0 is skipped (t does not advance)
    double eta0
    double base_step        # the base step of ADAGRAD / NORMALIZED_ADAGRAD
    double power_t
    double optimal_init
    bint fit_intercept
    double average          # averaging starts at sample t == average (0: never)
    bint one_class          # SGDOneClassSVM's problem: the intercept b is 1 - the offset,
                            # penalised by alpha b (in the objective and in its step)
    # the stopping rule
    double tol              # -inf: never stop early
    Py_ssize_t n_iter_no_change
    # ---- the fit's (set for every model when a fit starts) ----
    bint classification     # y holds class codes; output k's positive class is pos_label[k]
    double intercept_decay
    double step_scale       # factor of every learning rate but the per-coordinate ones
    double wscale_threshold
    double float_max        # largest value of the model's float type
