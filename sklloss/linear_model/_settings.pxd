# The hyperparameters of a fit as the engine's compiled code reads them: one record,
# built once per set of hyperparameters (_engine.EngineSettings) and shared by every
# epoch and output.

# Penalties and learning rates: the codes scikit-learn's engine uses, then sklloss's
# per-coordinate schedules (the Python names are _engine.PENALTIES and
# _engine.LEARNING_RATES).
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
    int penalty
    double alpha
    double l1_ratio
    int learning_rate
    double eta0
    double base_step        # the base step of ADAGRAD / NORMALIZED_ADAGRAD
    double power_t
    double optimal_init
    bint fit_intercept
    double intercept_decay
    double step_scale       # factor of every learning rate but the per-coordinate ones
    double average          # averaging starts at sample t == average (0: never)
    bint classification     # y holds class codes; output k's positive class is pos_label[k]
    bint one_class          # SGDOneClassSVM's problem: the intercept b is 1 - the offset,
                            # penalised by alpha b (in the objective and in its step)
    double wscale_threshold
    double float_max        # largest value of the model's float type
    double l1_strength      # alpha * l1_ratio: the L1 part of the penalty
    double l2_strength      # alpha * (1 - l1_ratio): the L2 part
