"""SGDOneClassSVM: a drop-in replacement for scikit-learn's, on sklloss's SGD engine."""
from numbers import Real

import numpy as np
from sklearn.base import OutlierMixin, _fit_context
from sklearn.utils._param_validation import Hidden, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ._sgd_base import (
    DEFAULT_EPSILON,
    _BaseSGD,
    _finite_array,
    loss_table,
    regression_shuffle_seed,
)

# every row is of the one class: a binary problem whose positive class is 1
_ONE = np.ones(1)


class SGDOneClassSVM(OutlierMixin, _BaseSGD):
    """Linear One-Class SVM trained by SGD.

    A drop-in replacement for :class:`sklearn.linear_model.SGDOneClassSVM`: the same
    parameters, defaults, attributes and methods, on sklloss's compiled engine (the
    hinge loss's kernel, the engine of SGDClassifier and SGDRegressor). It solves
    scikit-learn's formulation of the linear one-class SVM,

        min_{w, b}  nu / 2 ||w||^2 + nu b + mean_i max(0, 1 - (<w, x_i> + b)),

    and returns ``coef_ = w`` and ``offset_ = 1 - b``: ``decision_function(X) = X w -
    offset_`` is positive for inliers. For the same ``random_state`` it follows
    scikit-learn's path (the same row order and updates), so ``coef_`` and
    ``offset_`` agree with scikit-learn's up to floating-point rounding, dense and
    CSR. Float32 input is fitted in float32; a failed call (bad input, divergence,
    Ctrl-C) leaves the model as it was; the GIL is released during the fit.

    Parameters
    ----------
    nu : float in (0, 1], default=0.5
        An upper bound on the fraction of training errors and a lower bound on the
        fraction of support vectors; the strength of the penalty (``alpha`` of the
        SGD).
    fit_intercept : bool, default=True
        Whether to fit the offset; False keeps ``offset_`` at its initial value.
    max_iter : int, default=1000
        Maximum number of epochs (passes over the training data).
    tol : float or None, default=1e-3
        Stop when the training objective has not improved by ``tol`` for 5 epochs.
    shuffle : bool, default=True
        Whether to shuffle the rows before each epoch.
    verbose : int, default=0
        Print one line per epoch when > 0.
    random_state : int, RandomState instance or None, default=None
        Seeds the shuffling.
    learning_rate : {'constant', 'optimal', 'invscaling', 'adaptive'}, \
            default='optimal'
        The step size schedule: eta0; 1 / (nu (t0 + t)); eta0 / t^power_t; eta0
        divided by 5 whenever the objective stalls.
    eta0 : float, default=0.01
        Initial learning rate of the 'constant', 'invscaling' and 'adaptive'
        schedules.
    power_t : float, default=0.5
        Exponent of the 'invscaling' schedule.
    warm_start : bool, default=False
        Start ``fit`` from the previous solution.
    average : bool or int, default=False
        Averaged SGD: True averages over all updates, an int starts averaging once
        that many samples have been seen.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
        The weights w.
    offset_ : ndarray of shape (1,)
        The offset: ``decision_function = score_samples - offset_``.
    n_iter_ : int
        Epochs run.
    t_ : float
        Number of weight updates performed during training (+1).
    loss_curve_ : list of float
        The training objective of each epoch (what ``tol`` watches), as
        SGDClassifier's.
    best_loss_ : float
        The minimum of ``loss_curve_``.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Defined when X has feature names that are all strings.

    See Also
    --------
    sklearn.linear_model.SGDOneClassSVM : the estimator this one replaces.
    sklearn.svm.OneClassSVM : the kernelised one-class SVM.

    Examples
    --------
    >>> import numpy as np
    >>> from sklloss import SGDOneClassSVM
    >>> X = np.array([[-1, -1], [-2, -1], [1, 1], [2, 1]])
    >>> clf = SGDOneClassSVM(random_state=42, tol=None).fit(X)
    >>> print(clf.predict([[4, 4]]))
    [1]
    """

    _parameter_constraints: dict = {
        "nu": [Interval(Real, 0.0, 1.0, closed="right")],
        "fit_intercept": ["boolean"],
        "max_iter": _BaseSGD._parameter_constraints["max_iter"],
        "tol": _BaseSGD._parameter_constraints["tol"],
        "shuffle": ["boolean"],
        "verbose": ["verbose"],
        "random_state": ["random_state"],
        "learning_rate": [
            StrOptions({"constant", "optimal", "invscaling", "adaptive"}),
            # (as in scikit-learn: accepted by the constraints, refused with a clear
            # error by _more_validate_params)
            Hidden(StrOptions({"pa1", "pa2"})),
        ],
        "eta0": _BaseSGD._parameter_constraints["eta0"],
        "power_t": _BaseSGD._parameter_constraints["power_t"],
        "warm_start": ["boolean"],
        "average": _BaseSGD._parameter_constraints["average"],
    }
    # what the one-class problem fixes: the attributes scikit-learn's SGDOneClassSVM
    # has with these values (class attributes: not parameters)
    loss = "hinge"
    penalty = "l2"
    alpha = 0.0001
    l1_ratio = 0
    epsilon = DEFAULT_EPSILON
    early_stopping = False
    validation_fraction = 0.1
    n_iter_no_change = 5
    _allowed_losses = ("hinge",)
    _is_classifier = False
    _one_class = True
    loss_functions = loss_table(["hinge"])

    def __init__(
        self,
        nu=0.5,
        fit_intercept=True,
        max_iter=1000,
        tol=1e-3,
        shuffle=True,
        verbose=0,
        random_state=None,
        learning_rate="optimal",
        eta0=0.01,
        power_t=0.5,
        warm_start=False,
        average=False,
    ):
        self.nu = nu
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.shuffle = shuffle
        self.verbose = verbose
        self.random_state = random_state
        self.learning_rate = learning_rate
        self.eta0 = eta0
        self.power_t = power_t
        self.warm_start = warm_start
        self.average = average

    # -- the one-class problem on the SGD engine -------------------------------------
    _intercept_attribute = "offset_"

    def _engine_alpha(self):
        return self.nu

    def _raw_intercept(self):
        return 1 - self.offset_

    def _stored_intercept(self, intercept, dtype):
        return intercept  # (float64, as scikit-learn's offset_)

    def _set_intercept(self, intercept):
        self.offset_ = 1 - intercept

    def _commit(self, result, coef, *args, reset):
        # partial_fit updates coef_ in place, as scikit-learn's does (its tests hold
        # on to the array): copied over once the call has succeeded
        previous = None if reset else self.__dict__.get("coef_")
        super()._commit(result, coef, *args, reset)
        if (type(previous) is np.ndarray and not self.average
                and previous.shape == self.coef_.shape
                and previous.dtype == self.coef_.dtype and previous.flags.writeable):
            previous[...] = self.coef_
            self.coef_ = previous

    # -- fitting ---------------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, coef_init=None, offset_init=None, sample_weight=None):
        """Fit the linear One-Class SVM by stochastic gradient descent.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : Ignored
            Not used, present for API consistency by convention.
        coef_init : ndarray of shape (n_features,), default=None
            Initial coefficients (warm start).
        offset_init : ndarray of shape (1,), default=None
            Initial offset (warm start).
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return self._transaction(self._fit, X, coef_init, offset_init, sample_weight)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None, sample_weight=None):
        """Perform one epoch of stochastic gradient descent on the given samples.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            A chunk of the training data.
        y : Ignored
            Not used, present for API consistency by convention.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples.

        Returns
        -------
        self : object
            The updated estimator.
        """
        return self._transaction(self._partial_fit_checked, X, sample_weight)

    def _fit(self, X, coef_init, offset_init, sample_weight):
        self._more_validate_params()
        warm, coef_init, offset_init = self._warm_start_inits(coef_init, offset_init)
        self._fit_one_call(X, sample_weight, coef_init, offset_init,
                           max_iter=self.max_iter, reset=True, warm=warm)
        return self._end_fit()

    def _partial_fit_checked(self, X, sample_weight):
        first_call = getattr(self, "coef_", None) is None
        if first_call:
            self._more_validate_params(for_partial_fit=True)
        return self._fit_one_call(X, sample_weight, None, None, max_iter=1,
                                  reset=first_call)

    def _fit_one_call(self, X, sample_weight, coef_init, offset_init, max_iter, reset,
                      warm=False):
        X, _, _ = self._validate_X_y(X, None, reset=reset, y_checked=True)
        plan = self._plan()
        sample_weight = self._sample_weight(sample_weight, X)
        # a fresh model's offset is 0 (scikit-learn's), so its intercept 1
        intercept_init = np.ones(1)
        if offset_init is not None:
            offset = _finite_array(offset_init, np.float64, "offset_init").reshape(-1)
            if offset.shape != (1,):
                raise ValueError(
                    "Provided offset_init does not match dataset: expected 1 value, got "
                    "shape %s (with warm_start=True, offset_init defaults to the "
                    "previous fit's offset_)." % (np.shape(offset_init),))
            intercept_init = 1 - offset
        coef, intercept, average_coef, average_intercept = self._continue_or_start(
            not reset, 1, X.shape[1], X.dtype, coef_init, intercept_init)
        # the shuffle seed, drawn as scikit-learn's SGDOneClassSVM draws it
        seed = regression_shuffle_seed(self.random_state, then_dataset_seed=False)
        t = 1.0 if reset else getattr(self, "t_", 1.0)
        # every row is of the one class (y = 1): the hinge loss max(0, 1 - <w, x> - b)
        y = np.ones(X.shape[0], dtype=X.dtype)
        result = self._run_engine(
            plan, X, y, sample_weight, coef=coef, intercept=intercept,
            average_coef=average_coef, average_intercept=average_intercept,
            pos_label=_ONE, weight_pos=_ONE, weight_neg=_ONE,
            validation_mask=np.zeros(X.shape[0], dtype=bool), validation_score=None,
            seed=seed, max_iter=max_iter, t=t, n_threads=1, keep_step_state=False)
        self._commit(result, coef, intercept, average_coef, average_intercept,
                     X.shape[0], t, X.dtype, (X.shape[1],), None, reset=reset)
        return self

    # -- prediction ------------------------------------------------------------------
    def decision_function(self, X):
        """Signed distance to the separating hyperplane: positive for an inlier,
        negative for an outlier.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
            ``X @ coef_ - offset_``.
        """
        check_is_fitted(self, "coef_")
        return self._decision_scores(X, -self.offset_).ravel()

    def score_samples(self, X):
        """Raw scoring function of the samples: ``X @ coef_``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
            The unshifted scores: ``decision_function(X) + offset_``.
        """
        return self.decision_function(X) + self.offset_

    def predict(self, X):
        """Labels of the samples: 1 for an inlier, -1 for an outlier.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,), int32
        """
        y = (self.decision_function(X) >= 0).astype(np.int32)
        y[y == 0] = -1  # (the convention of outlier detectors)
        return y
