"""The base shared by SGDClassifier and SGDRegressor.

Python does what scikit-learn's own estimators do (parameter and input validation,
label encoding, class weights, the early-stopping split, the public attributes), with
scikit-learn's utilities; ``_engine.fit_epochs`` runs the epochs. A fit works on
copies of the model and commits them only when it succeeds: an exception (bad input,
divergence, Ctrl-C) leaves the estimator as it was.

The lean path. Most calls get plain input: a C-contiguous float ndarray (or a
canonical CSR matrix) of the fitted width, numeric labels, no sample weights or a
plain float array of them. Such input is recognised by a few cheap tests (one pass
over the values for finiteness) and taken as it is, without scikit-learn's
validation, which would return it unchanged; anything else (lists, data frames,
other dtypes, feature names, NaN, a wrong width...) goes through scikit-learn's
validation exactly as before, so its conversions, warnings and errors are unchanged.
What does not change between calls (the engine's settings, the label maps and class
weights, the seeds drawn from an integer random_state, the validated parameters) is
computed once and reused.
"""
import functools
import inspect
import operator
import warnings
import weakref
from contextlib import contextmanager
from numbers import Integral, Number, Real

import numpy as np
import scipy.sparse as sp
from sklearn import get_config
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import SGDClassifier as _SklearnSGDClassifier
from sklearn.linear_model import SGDRegressor as _SklearnSGDRegressor
from sklearn.linear_model._base import SparseCoefMixin
from sklearn.model_selection import ShuffleSplit, StratifiedShuffleSplit
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils import assert_all_finite, check_random_state
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.validation import (
    _check_sample_weight,
    check_array,
    check_consistent_length,
    check_is_fitted,
    validate_data,
)

from ..losses import LOSSES, BaseLoss, IdentityLink
from . import _checks, _engine, _together

# scikit-learn >= 1.8 rejects all-zero sample weights unless told not to; the check is
# made here instead, so that early stopping can say which set has no weight.
_ALLOW_ZERO = ({"allow_all_zero_weights": True}
               if "allow_all_zero_weights" in inspect.signature(_check_sample_weight).parameters
               else {})

DEFAULT_EPSILON = 0.1
MAX_INT = np.iinfo(np.int32).max
MAX_INTP = np.iinfo(np.intp).max  # (max_iter and the like beyond it are as good as infinite)


def _regression_loss(cls):
    """A loss SGDRegressor takes: one output, real targets (not labels)."""
    return not cls.is_multiclass and not cls.integer_y_true


def _classification_loss(cls):
    """A loss SGDClassifier takes: labels (binary or multi-class), or, as in
    scikit-learn, one of the regression losses of scikit-learn's SGD, with the
    identity link and targets that include the -1 / +1 one-vs-rest gives it (not the
    GLM and quantile losses sklloss adds for regression)."""
    return cls.integer_y_true or (
        cls.name in _SklearnSGDClassifier.loss_functions
        and isinstance(cls.link, IdentityLink) and cls.interval_y_true.includes([-1.0, 1.0]))


# the estimators' losses, derived from the registry (in its order)
REGRESSION_LOSSES = tuple(name for name, cls in LOSSES.items() if _regression_loss(cls))
CLASSIFICATION_LOSSES = tuple(name for name, cls in LOSSES.items()
                              if _classification_loss(cls))
# those scikit-learn's SGD estimators have too (sklloss adds the multi-class loss, and
# the GLM and quantile losses): their ``loss_functions`` tables
SKLEARN_CLASSIFICATION_LOSSES = tuple(name for name in CLASSIFICATION_LOSSES
                                      if name in _SklearnSGDClassifier.loss_functions)
SKLEARN_REGRESSION_LOSSES = tuple(name for name in REGRESSION_LOSSES
                                  if name in _SklearnSGDRegressor.loss_functions)

# sklloss's learning rates with per-coordinate steps, whose accumulators are fitted
# state (kept by partial_fit and warm_start)
PER_COORDINATE_SCHEDULES = ("adagrad", "normalized_adagrad")
FLOAT_DTYPES = (np.dtype(np.float64), np.dtype(np.float32))
INDEX_DTYPES = (np.dtype(np.int32), np.dtype(np.int64))
CSR_TYPES = (sp.csr_matrix, sp.csr_array)
NO_INDEX = np.empty(0, dtype=np.int32)  # a dense X's (unused) CSR index arrays

# estimator -> its _Plan: derived values, kept out of the estimator's own state (not
# in vars(), not pickled, not copied), rebuilt whenever what they derive from changes
_PLANS = weakref.WeakKeyDictionary()
# (class, parameter values with their types) that passed _validate_params
_VALID_PARAMETERS = {}
_VALID_PARAMETERS_MAX = 1024
_PLAIN_PARAMETER_TYPES = (str, int, float, bool, type(None))


class InputConversionError(ValueError, TypeError):
    """Input that cannot be converted to what the estimator needs (e.g. an object
    array holding a dict or None). A ValueError, and a TypeError as numpy raises it,
    so that code catching either keeps working.

    Examples
    --------
    >>> from sklloss import InputConversionError, SGDClassifier
    >>> try:
    ...     SGDClassifier().fit([[1.0, 2.0], [3.0, {}]], [0, 1])
    ... except InputConversionError as error:
    ...     print(isinstance(error, ValueError), isinstance(error, TypeError))
    ...     print(error)
    True True
    X or y could not be converted: float() argument must be ...
    """


@contextmanager
def converting(problem):
    """Turn a TypeError raised while converting input into an InputConversionError
    whose message starts with `problem`."""
    try:
        yield
    except TypeError as error:
        if isinstance(error, ValueError):  # e.g. InvalidParameterError: clear already
            raise
        raise InputConversionError(f"{problem}: {error}") from error


def loss_table(names):
    """loss name -> (sklloss loss class,) or (class, its parameters' defaults): the
    shape of scikit-learn's ``loss_functions`` class attribute, which some code
    reads."""
    table = {}
    for name in names:
        defaults = inspect.signature(LOSSES[name]).parameters
        table[name] = (LOSSES[name], *(defaults[parameter].default
                                       for parameter in LOSSES[name]._parameter_names))
    return table


class _BaseSGD(SparseCoefMixin, BaseEstimator):
    """Parameters, validation and the call to the engine shared by both estimators."""

    _parameter_constraints: dict = {
        "penalty": [StrOptions({"l2", "l1", "elasticnet"}), None],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "l1_ratio": [Interval(Real, 0, 1, closed="both"), None],
        "fit_intercept": ["boolean"],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left"), None],
        "shuffle": ["boolean"],
        "verbose": ["verbose"],
        "epsilon": [Interval(Real, 0, None, closed="left")],
        "random_state": ["random_state"],
        "learning_rate": [
            StrOptions({"constant", "optimal", "invscaling", "adaptive", "pa1", "pa2",
                        *PER_COORDINATE_SCHEDULES}),
        ],
        "eta0": [Interval(Real, 0, None, closed="neither")],
        "power_t": [Interval(Real, None, None, closed="neither")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "warm_start": ["boolean"],
        "average": [Interval(Integral, 0, None, closed="neither"), "boolean"],
    }
    _allowed_losses = ()
    # SGDOneClassSVM's problem (the engine's one_class settings), see _one_class.py
    _one_class = False

    # -- parameters ------------------------------------------------------------------
    @classmethod
    def _get_param_names(cls):
        # scikit-learn reads __init__'s signature on every get_params (so on every
        # clone and parameter validation); it does not change, so read it once
        names = cls.__dict__.get("_parameter_names_of_init")
        if names is None:
            names = tuple(super()._get_param_names())
            cls._parameter_names_of_init = names
            getter = operator.attrgetter(*names)
            cls._get_parameter_values = (getter if len(names) > 1
                                         else lambda self: (getter(self),))
        return list(names)

    def _parameter_values(self):
        """The hyperparameters' current values, in _get_param_names order."""
        type(self)._get_param_names()  # (makes _get_parameter_values)
        return type(self)._get_parameter_values(self)

    def _validate_params(self):
        # The same parameters validate the same way: remember the sets that passed
        # (a search fits each candidate once per fold), keyed by value and type (1,
        # 1.0 and True are not the same parameter), for plain values only.
        values = self._parameter_values()
        key = None
        if all(type(value) in _PLAIN_PARAMETER_TYPES for value in values):
            key = (type(self), values, tuple(map(type, values)))
            if key in _VALID_PARAMETERS:
                return
        super()._validate_params()
        if key is not None:
            if len(_VALID_PARAMETERS) >= _VALID_PARAMETERS_MAX:
                _VALID_PARAMETERS.clear()
            _VALID_PARAMETERS[key] = True

    def __sklearn_is_fitted__(self):
        # (scikit-learn's protocol: check_is_fitted and the partial_fit check of
        # _fit_context ask this rather than list every attribute ending in "_")
        return "coef_" in self.__dict__

    def _loss_class(self):
        """The class of ``self.loss`` (a name or an sklloss.losses object), or None for
        a name that is no loss."""
        if isinstance(self.loss, BaseLoss):
            return type(self.loss)
        return LOSSES.get(self.loss) if isinstance(self.loss, str) else None

    def _loss_key(self):
        """What ``self.loss`` is, checked against the losses this estimator takes: a
        loss object's (name, kernel parameters), or for a name (name, the estimator's
        ``epsilon`` where the loss takes one, else None). Cheap: what a _Plan is keyed
        by."""
        cls = self._loss_class()
        if cls is None or cls.name not in self._allowed_losses:
            raise ValueError(
                f"{type(self).__name__} does not support loss={self.loss!r}; the supported "
                f"losses are {sorted(self._allowed_losses)} (as names or as "
                f"sklloss.losses objects)."
            )
        if isinstance(self.loss, BaseLoss):
            return cls.name, self.loss._kernel_record()
        return cls.name, (float(self.epsilon) if "epsilon" in cls._parameter_names
                          else None)

    def _plan(self, **derived):
        """This estimator's _Plan for its current hyperparameters and the values in
        `derived` (compared by identity): the one made last when nothing changed."""
        loss_key = self._loss_key()
        # (a dict class_weight can change in place: the key holds a copy of it too)
        class_weight = self.__dict__.get("class_weight")
        key = (self._parameter_values(), loss_key,
               dict(class_weight) if type(class_weight) is dict else None)
        plan = _PLANS.get(self)
        if plan is not None and plan.matches(key, derived):
            return plan
        plan = _Plan(key, derived)
        plan.loss = (self.loss if isinstance(self.loss, BaseLoss)
                     else _named_loss(*loss_key))
        epsilon, quantile, power = plan.loss._kernel_record()
        plan.settings = _model_settings(
            kernel=int(plan.loss.kernel), epsilon=epsilon, quantile=quantile,
            power=power, multiclass=plan.loss.is_multiclass,
            penalty=_engine.PENALTIES["none" if self.penalty is None
                                      else str(self.penalty).lower()],
            alpha=float(self._engine_alpha()),
            l1_ratio=0.0 if self.l1_ratio is None else float(self.l1_ratio),
            learning_rate=_engine.LEARNING_RATES[self.learning_rate],
            eta0=float(self.eta0), power_t=float(self.power_t),
            fit_intercept=bool(self.fit_intercept), average=float(int(self.average)),
            tol=-np.inf if self.tol is None else float(self.tol),
            n_iter_no_change=min(int(self.n_iter_no_change), MAX_INTP),
            one_class=self._one_class)
        _PLANS[self] = plan
        return plan

    # the public attribute that holds the intercept (SGDOneClassSVM: offset_)
    _intercept_attribute = "intercept_"

    def _engine_alpha(self):
        """The penalty's strength the engine takes (SGDOneClassSVM: nu)."""
        return self.alpha

    def _raw_intercept(self):
        """The fitted intercept b of the raw score <w, x> + b (SGDOneClassSVM: 1 -
        offset_)."""
        return self.intercept_

    def _stored_intercept(self, intercept, dtype):
        """The engine's float64 intercept as the estimator stores it: X's dtype, as
        scikit-learn's SGDClassifier / SGDRegressor."""
        return intercept.astype(dtype)

    def _set_intercept(self, intercept):
        """Set the public attribute of the intercept a fit ends with."""
        self.intercept_ = intercept

    def _more_validate_params(self, for_partial_fit=False):
        if self.early_stopping and for_partial_fit:
            raise ValueError("early_stopping should be False with partial_fit")
        if self.learning_rate == "optimal" and self.alpha == 0:
            raise ValueError(
                "alpha must be > 0 since learning_rate is 'optimal'. alpha is used "
                "to compute the optimal learning rate."
            )
        loss_name, _ = self._loss_key()
        if self.learning_rate in ("pa1", "pa2"):
            needed = "hinge" if self._is_classifier else "epsilon_insensitive"
            if loss_name != needed:
                raise ValueError(
                    f"Learning rate '{self.learning_rate}' only works with loss '{needed}'."
                )
        if self.penalty == "elasticnet" and self.l1_ratio is None:
            raise ValueError("l1_ratio must be set when penalty is 'elasticnet'")

    def _warn_deprecated_power_t(self):
        if self.power_t < 0:
            warnings.warn(
                "Negative values for `power_t` are deprecated in version 1.8 "
                "and will raise an error in 1.10. "
                "Use values in the range [0.0, inf) instead.",
                FutureWarning,
            )

    # -- input -----------------------------------------------------------------------
    def _is_plain_X(self, X, reset):
        """Whether validate_data would return X unchanged (the fast path's test)."""
        if reset:
            n_features = None
        else:
            n_features = self.__dict__.get("n_features_in_")
            if n_features is None or "feature_names_in_" in self.__dict__:
                return False  # (validate_data warns of the missing feature names)
        return is_plain_dense(X, n_features) or is_plain_csr(X, n_features)

    def _validate_X_y(self, X, y, reset, y_checked=False):
        """X and y as validate_data returns them (y_checked: y was already validated
        on its own, as the classifier's fit does first), and whether they were plain
        (taken as they are)."""
        if self._is_plain_X(X, reset) and (
                y_checked or is_plain_target(y, X.shape[0], self._is_classifier)):
            if y_checked:
                check_consistent_length(X, y)
            if reset:  # what validate_data records of an X without feature names
                self.__dict__.pop("feature_names_in_", None)
                self.n_features_in_ = X.shape[1]
            return X, y, True
        with converting("X or y could not be converted"):
            if y_checked:
                X = validate_data(self, X, accept_sparse="csr",
                                  dtype=[np.float64, np.float32], order="C",
                                  accept_large_sparse=True, reset=reset)
                check_consistent_length(X, y)
            else:
                X, y = validate_data(
                    self, X, y, accept_sparse="csr", dtype=[np.float64, np.float32],
                    order="C", accept_large_sparse=True, reset=reset,
                )
        if sp.issparse(X):
            X = _canonical_csr(_check_csr_structure(X))
        return X, y, False

    def _sample_weight(self, sample_weight, X):
        n_samples = X.shape[0]
        if sample_weight is None:
            return np.ones(n_samples, dtype=X.dtype)  # (what _check_sample_weight makes)
        if is_plain_weight(sample_weight, X, self.early_stopping):
            return sample_weight  # (what _check_sample_weight returns for it)
        if isinstance(sample_weight, Number):
            # scikit-learn broadcasts a scalar weight unchecked (arrays it checks)
            assert_all_finite(sample_weight, input_name="sample_weight")
        with converting("sample_weight could not be converted"):
            sample_weight = _check_sample_weight(sample_weight, X, dtype=X.dtype,
                                                 ensure_non_negative=True, copy=False,
                                                 **_ALLOW_ZERO)
        if not self.early_stopping and not np.any(sample_weight > 0):
            # (with early stopping, _validation_split names the emptier set instead)
            raise ValueError("Sample weights must contain at least one non-zero number.")
        return sample_weight

    def _validation_split(self, y, sample_weight):
        """Boolean mask of the validation rows (all False without early stopping)."""
        n_samples = y.shape[0]
        validation_mask = np.zeros(n_samples, dtype=bool)
        if not self.early_stopping:
            return validation_mask
        splitter = StratifiedShuffleSplit if self._is_classifier else ShuffleSplit
        cv = splitter(test_size=self.validation_fraction, random_state=self.random_state)
        idx_train, idx_val = next(cv.split(np.zeros((n_samples, 1)), y))
        if not np.any(sample_weight[idx_val] > 0):
            raise ValueError(
                "The sample weights for validation set are all zero, consider using a"
                " different random state."
            )
        if idx_train.shape[0] == 0 or idx_val.shape[0] == 0:
            raise ValueError(
                "Splitting %d samples into a train set and a validation set "
                "with validation_fraction=%r led to an empty set (%d and %d "
                "samples). Please either change validation_fraction, increase "
                "number of samples, or disable early_stopping."
                % (n_samples, self.validation_fraction, idx_train.shape[0],
                   idx_val.shape[0])
            )
        validation_mask[idx_val] = True
        return validation_mask

    # -- the engine ------------------------------------------------------------------
    def _run_engine(self, plan, X, y_engine, sample_weight, *, coef, intercept,
                    average_coef, average_intercept, pos_label, weight_pos, weight_neg,
                    validation_mask, validation_score, seed, max_iter, t, n_threads,
                    keep_step_state, step_scale=1.0):
        """Run the epochs on copies of the model; returns the engine's result, with
        the per-coordinate schedules' state after the run as "step_state" (continued
        from the last call's if `keep_step_state`)."""
        dtype = X.dtype
        sparse = sp.issparse(X)
        if sparse:
            X_data, X_indices, X_indptr = X.data, X.indices, X.indptr
            intercept_decay = 0.01  # scikit-learn's SPARSE_INTERCEPT_DECAY
        else:
            X_data = X.reshape(-1)
            X_indices = X_indptr = NO_INDEX
            intercept_decay = 1.0
        step_state = self._step_state_to_run(plan.settings, coef.shape, keep_step_state)
        request = (
            (plan.settings,) if plan.loss.is_multiclass else (plan.settings,) * coef.shape[0],
            _engine.TrainingData(
                X_data=X_data, X_indices=X_indices, X_indptr=X_indptr, sparse=sparse,
                n_features=X.shape[1], y=np.ascontiguousarray(y_engine, dtype=dtype),
                sample_weight=np.ascontiguousarray(sample_weight, dtype=dtype),
                classification=self._is_classifier or self._one_class,
                n_classes=coef.shape[0] if plan.loss.is_multiclass else 0,
                validation_mask=(validation_mask.view(np.uint8)
                                 if validation_score is not None else None)),
            _engine.ModelArrays(
                coef=coef, intercept=intercept, average_coef=average_coef,
                average_intercept=average_intercept, pos_label=pos_label,
                weight_pos=weight_pos, weight_neg=weight_neg,
                step_scale=None if step_scale == 1.0 else np.full(coef.shape[0], step_scale),
                step_state=None if step_state is None else step_state[1:]),
            _engine.RunSettings(
                max_iter=min(int(max_iter), MAX_INTP), seed=seed, t=float(t),
                intercept_decay=intercept_decay, shuffle=bool(self.shuffle),
                verbose=int(self.verbose > 0), n_threads=n_threads,
                validation_score=validation_score),
        )
        # (inside fit_together, the fit's engine call joins the others')
        rendezvous = _together.current_rendezvous()
        result = (_engine.fit_epochs(*request) if rendezvous is None
                  else rendezvous.submit(*request))
        if result["status"] == _engine.DIVERGED:
            raise ValueError(
                "Floating-point under-/overflow occurred at epoch #%d. Scaling input "
                "data with StandardScaler or MinMaxScaler might help, or a smaller "
                "learning rate (eta0, or a larger alpha with learning_rate='optimal')."
                % result["epoch"]
            )
        result["step_state"] = step_state
        return result

    def _step_state_to_run(self, settings, shape, keep):
        """The per-coordinate schedules' state for a run of the (K, d) model `shape`:
        (learning_rate, root, inv_scale, sums) as fit_epochs takes the last three,
        fresh arrays it may update; None for the other schedules (the engine's
        settings record says which are per-coordinate)."""
        if not settings.per_coordinate:
            return None
        saved = self.__dict__.get("_step_state")
        if keep and saved is not None and saved[0] == self.learning_rate \
                and saved[1].shape == shape:
            return (saved[0], *(np.array(part) for part in saved[1:]))
        normalized = self.learning_rate == "normalized_adagrad"
        return (self.learning_rate, np.zeros(shape),
                np.full(shape if normalized else (0, 0), np.inf),
                np.zeros((shape[0], 3)))

    def _decision_scores(self, X, shift=None):
        """X @ coef_.T + shift (default intercept_), shape (n_samples, n_outputs)."""
        shift = self.__dict__.get("intercept_") if shift is None else shift
        coef = self.__dict__.get("coef_")
        n_features = self.__dict__.get("n_features_in_")
        if (type(coef) is np.ndarray and "feature_names_in_" not in self.__dict__
                and (is_plain_dense(X, n_features, check_finite=False)
                     or is_plain_csr(X, n_features))):
            # What the checks below would let through unchanged, but for finiteness,
            # which is checked on the scores rather than on X (a pass over X saved): a
            # NaN or inf in X makes its row's scores NaN or inf (0 * inf is NaN too).
            # Non-finite scores go the slow way, which raises scikit-learn's error, or
            # (finite X whose scores overflow) computes them again with its warnings.
            with np.errstate(all="ignore"):
                scores = X @ coef.T + shift
            if _checks.all_finite(scores.reshape(-1)):
                return scores
        check_is_fitted(self)
        with converting("X could not be converted"):
            # (the dtypes fit accepts, so that what fit takes, predict takes too)
            X = validate_data(self, X, accept_sparse="csr", reset=False,
                              dtype=[np.float64, np.float32])
        if sp.issparse(X):
            _check_csr_structure(X)
        return safe_sparse_dot(X, self.coef_.T, dense_output=True) + shift

    def _init_parameters(self, n_outputs, n_features, dtype, coef_init, intercept_init):
        """(K, d) coef and (K,) float64 intercept: given, continued or zeros."""
        if coef_init is not None:
            coef = _finite_copy(coef_init, dtype, "coef_init")
            expected = (n_outputs, n_features)
            if n_outputs == 1:  # as in scikit-learn: any shape holding d values
                coef, expected = coef.ravel(), (n_features,)
            if coef.shape != expected:
                raise ValueError(
                    "Provided coef_init does not match dataset: expected shape %s, got %s "
                    "(with warm_start=True, coef_init defaults to the previous fit's "
                    "coef_)." % (expected, coef.shape))
            coef = coef.reshape(n_outputs, n_features)
        else:
            coef = np.zeros((n_outputs, n_features), dtype=dtype)
        if intercept_init is not None:
            intercept = _finite_array(intercept_init, np.float64, "intercept_init").reshape(-1)
            if intercept.shape != (n_outputs,):
                raise ValueError(
                    "Provided intercept_init does not match dataset: expected %d value(s), "
                    "got shape %s (with warm_start=True, intercept_init defaults to the "
                    "previous fit's intercept_)." % (n_outputs, np.shape(intercept_init)))
        else:
            intercept = np.zeros(n_outputs, dtype=np.float64)
        return coef, intercept

    def _continue_or_start(self, continuing, n_outputs, n_features, dtype, coef_init,
                           intercept_init):
        """The model the engine starts from, as fresh arrays it may update."""
        if continuing:
            # the un-averaged model when averaging (it may have been switched on since)
            coef = getattr(self, "_standard_coef", None) if self.average else None
            coef = self.coef_ if coef is None else coef
            coef = _finite_copy(coef, dtype, "coef_").reshape(n_outputs, n_features)
            intercept = getattr(self, "_standard_intercept", None) if self.average else None
            intercept = self._raw_intercept() if intercept is None else intercept
            intercept = np.array(intercept, dtype=np.float64).reshape(-1)
        else:
            coef, intercept = self._init_parameters(n_outputs, n_features, dtype,
                                                    coef_init, intercept_init)
        if self.average:
            if continuing and getattr(self, "_average_coef", None) is not None:
                average_coef = np.array(self._average_coef, dtype=dtype,
                                        order="C").reshape(n_outputs, n_features)
                average_intercept = np.array(self._average_intercept,
                                             dtype=np.float64).reshape(-1)
            else:
                average_coef = np.zeros((n_outputs, n_features), dtype=dtype)
                average_intercept = np.zeros(n_outputs, dtype=np.float64)
        else:
            average_coef = np.zeros((0, n_features), dtype=dtype)
            average_intercept = np.zeros(0, dtype=np.float64)
        return coef, intercept, average_coef, average_intercept

    def _commit(self, result, coef, intercept, average_coef, average_intercept, n_samples,
                t, dtype, shape, validation_score, reset):
        """Set the public attributes from a successful run."""
        self._set_curves(result, validation_score, reset)
        self._step_state = result["step_state"]
        self.n_iter_ = int(result["n_iter"].max())
        self.t_ = float(t + self.n_iter_ * n_samples)
        coef = coef.reshape(shape)
        intercept = self._stored_intercept(intercept, dtype)
        if self.average:
            self._standard_coef = coef
            self._standard_intercept = intercept
            self._average_coef = average_coef.reshape(shape)
            self._average_intercept = self._stored_intercept(average_intercept, dtype)
            if self.average <= self.t_ - 1:
                self.coef_ = self._average_coef
                self._set_intercept(self._average_intercept)
            else:
                self.coef_ = self._standard_coef
                self._set_intercept(self._standard_intercept)
        else:
            self.coef_ = coef
            self._set_intercept(intercept)

    def _set_curves(self, result, validation_score, reset):
        """loss_curve_, validation_scores_, best_loss_ and best_validation_score_, the
        learning curves of scikit-learn's MLP, from what the engine recorded as it went
        (no pass over the data of their own). A fit starts them afresh, partial_fit
        appends one value per call."""
        # (epochs, K): per epoch and output, the mean objective. One-vs-rest outputs
        # stop one by one; a stopped output keeps the objective it stopped at, so that
        # the sum over outputs is the whole model's objective at every epoch.
        per_epoch = result["objective_curve"]
        if len(per_epoch) == 1:  # (partial_fit: one epoch, which every output ran)
            losses = [float(per_epoch[0].sum())]
        else:
            objectives = np.array(per_epoch, dtype=np.float64).reshape(
                -1, len(result["n_iter"]))
            for k, n_iter in enumerate(result["n_iter"]):
                objectives[n_iter:, k] = objectives[n_iter - 1, k]
            losses = objectives.sum(axis=1).tolist()
        scores = None if validation_score is None else list(validation_score.model_scores)
        curve = self.__dict__.get("loss_curve_")
        if reset or type(curve) is not list:
            self.loss_curve_ = losses
            self.validation_scores_ = scores
            best_loss = min(losses)
        else:
            # partial_fit appends in place, as MLP does: a stream of calls stays O(1)
            # per call (_transaction takes the values back if the call fails)
            curve.extend(losses)
            best_loss = (min(curve) if self.__dict__.get("best_loss_") is None
                         else min(self.best_loss_, *losses))
            if scores is not None:
                if type(self.validation_scores_) is list:
                    self.validation_scores_.extend(scores)
                else:
                    self.validation_scores_ = scores
        self.best_loss_ = None if self.early_stopping else best_loss
        if self.validation_scores_ is None:
            self.best_validation_score_ = None
        elif scores is None or reset or self.__dict__.get("best_validation_score_") is None:
            self.best_validation_score_ = max(self.validation_scores_)
        else:
            self.best_validation_score_ = max(self.best_validation_score_, *scores)

    def _transaction(self, fit_function, *args, **kwargs):
        """Run a fit; on any exception restore every attribute, then re-raise."""
        saved = dict(self.__dict__)
        lengths = {name: len(saved[name]) for name in ("loss_curve_", "validation_scores_")
                   if type(saved.get(name)) is list}
        try:
            return fit_function(*args, **kwargs)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(saved)
            for name, length in lengths.items():
                del saved[name][length:]  # what the call appended in place
            raise

    def _warm_start_inits(self, coef_init, intercept_init):
        """What fit starts from: with warm_start and a fitted model, its coef_ and its
        stored intercept (intercept_, SGDOneClassSVM's offset_) where no init is
        given. Returns (warm, coef_init, intercept_init)."""
        warm = self.warm_start and getattr(self, "coef_", None) is not None
        if warm:
            coef_init = self.coef_ if coef_init is None else coef_init
            if intercept_init is None:
                intercept_init = getattr(self, self._intercept_attribute)
        return warm, coef_init, intercept_init

    def _end_fit(self):
        """fit's warnings (no convergence, a deprecated power_t); returns self."""
        self._warn_if_not_converged()
        self._warn_deprecated_power_t()
        return self

    def _warn_if_not_converged(self):
        if self.tol is not None and self.tol > -np.inf and self.n_iter_ == self.max_iter:
            warnings.warn(
                "Maximum number of iteration reached before convergence. Consider "
                "increasing max_iter to improve the fit.",
                ConvergenceWarning,
            )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


class _Plan:
    """What calls with the same hyperparameters share: the engine's settings and, for
    a classifier, its label arrays and class weights (in `values`). `key` holds the
    hyperparameters it was made from, `derived` the objects (e.g. ``classes_``) it
    was made for, compared by identity."""

    __slots__ = ("key", "derived", "loss", "settings", "values")

    def __init__(self, key, derived):
        self.key = key
        self.derived = derived
        self.loss = None
        self.settings = None
        self.values = {}

    def matches(self, key, derived):
        if derived.keys() != self.derived.keys() or any(
                derived[name] is not self.derived[name] for name in derived):
            return False
        try:
            return bool(key == self.key)
        except Exception:  # noqa: BLE001 - a value that cannot say: make a new plan
            return False


@functools.lru_cache(maxsize=256)
def _named_loss(name, epsilon):
    """The loss object for a loss name and the estimator's epsilon (None: the loss
    takes none), made once: the estimators only read it."""
    loss = LOSSES[name]()
    if epsilon is not None:
        # (checked by the estimator's own constraints, which admit inf, as
        # scikit-learn's do: the loss class's constructor would refuse it)
        loss.epsilon = epsilon
    return loss


@functools.lru_cache(maxsize=256)
def _model_settings(**settings):
    """The engine's settings record of a model (immutable, so shared by every
    estimator that has the same hyperparameters)."""
    return _engine.ModelSettings(**settings)


def is_plain_dense(X, n_features, check_finite=True):
    """Whether X is a C-contiguous float64 / float32 ndarray with at least one row and
    `n_features` columns (None: any number > 0) of finite values (or finiteness is
    assumed, as scikit-learn's ``assume_finite`` config says, not asked for, or
    already checked by the fit_together that runs this fit): what scikit-learn's
    validation returns as it is."""
    return (type(X) is np.ndarray and X.ndim == 2 and X.dtype in FLOAT_DTYPES
            and X.flags.c_contiguous and X.shape[0] > 0
            and (X.shape[1] > 0 if n_features is None else X.shape[1] == n_features)
            and (not check_finite or get_config()["assume_finite"]
                 or X is _together.checked_rows() or _checks.all_finite(X.reshape(-1))))


def is_plain_csr(X, n_features):
    """Whether X is a float64 / float32 CSR matrix (or array) with at least one row
    and `n_features` columns (None: any number > 0), sorted duplicate-free in-range
    column indices, a well-formed indptr and finite values (the last three checked
    once by the fit_together that runs this fit, if any): what the checks of
    `_validate_X_y` return as it is."""
    return (type(X) in CSR_TYPES and X.ndim == 2 and X.dtype in FLOAT_DTYPES
            and X.shape[0] > 0
            and (X.shape[1] > 0 if n_features is None else X.shape[1] == n_features)
            and X.indices.dtype in INDEX_DTYPES and X.indptr.dtype == X.indices.dtype
            and X.data.flags.c_contiguous and X.indices.flags.c_contiguous
            and X.indptr.flags.c_contiguous and X.data.ndim == 1
            and X.indices.ndim == 1 and X.indptr.ndim == 1
            and (X is _together.checked_rows()
                 or _checks.csr_is_canonical_and_finite(X.data, X.indices, X.indptr,
                                                        X.shape[0], X.shape[1])))


def is_plain_target(y, n_samples, classification):
    """Whether y is a 1-D numeric ndarray of n_samples values (None: any number > 0)
    that scikit-learn's
    target checks pass unchanged: for a classifier, integers, bools or integral floats
    (type_of_target's test for 'continuous', which NaN and inf fail too); for a
    regressor, finite numbers."""
    if (type(y) is not np.ndarray or y.ndim != 1 or y.shape[0] == 0
            or (n_samples is not None and y.shape[0] != n_samples)
            or y.dtype.kind not in "biuf"):
        return False
    if y.dtype.kind != "f":
        return True
    if not (y.dtype in FLOAT_DTYPES and y.flags.c_contiguous):
        return False
    if not classification:
        return get_config()["assume_finite"] or _checks.all_finite(y)
    # (finite and well inside int64's range first: then the cast of type_of_target's
    # test is exact, and warns of nothing)
    return (_checks.all_finite(y) and -2.0 ** 62 < y.min() and y.max() < 2.0 ** 62
            and not np.any(y != y.astype(int)))


def is_plain_weight(sample_weight, X, early_stopping):
    """Whether sample_weight is a C-contiguous ndarray of X's dtype with one finite
    non-negative weight per row, not all zero (with early stopping, the split's check
    of its sets says more): what `_sample_weight`'s checks return as it is."""
    return (type(sample_weight) is np.ndarray and sample_weight.shape == (X.shape[0],)
            and sample_weight.dtype == X.dtype and sample_weight.flags.c_contiguous
            and _checks.all_finite(sample_weight) and sample_weight.min() >= 0
            and (early_stopping or sample_weight.max() > 0))


def is_integer_seed(random_state):
    """Whether random_state is an int (not a bool): check_random_state makes a fresh
    RandomState(random_state) of it, so what is drawn from it is the same every call."""
    return isinstance(random_state, Integral) and not isinstance(random_state, bool)


def ovr_shuffle_seed(random_state, n_classes):
    """The shuffle seed of the fused one-vs-rest pass, drawn from the RandomState
    `random_state`: scikit-learn seeds class k's pass with seeds[k]; the fused pass
    serves all classes with one row order, that of class 0."""
    seeds = random_state.randint(MAX_INT, size=n_classes)
    class_0 = np.random.RandomState(seeds[0])
    class_0.randint(1, np.iinfo(np.int32).max)  # scikit-learn's dataset seed
    return int(class_0.randint(MAX_INT))


def regression_shuffle_seed(random_state, then_dataset_seed):
    """The shuffle seed of a one-output fit of the "regression" kind, drawn as
    scikit-learn draws it: the shuffle seed first; SGDRegressor then draws its
    dataset's seed (which advances a RandomState passed as random_state),
    SGDOneClassSVM does not."""
    if is_integer_seed(random_state):
        return integer_seed_shuffle_seed(random_state, "regression", 1)
    random_state = check_random_state(random_state)
    seed = int(random_state.randint(0, MAX_INT))
    if then_dataset_seed:
        random_state.randint(1, np.iinfo(np.int32).max)
    return seed


@functools.lru_cache(maxsize=1024)
def integer_seed_shuffle_seed(random_state, kind, n_classes):
    """The shuffle seed drawn from RandomState(random_state) for an int random_state,
    as scikit-learn draws it: for kind "binary" (one row order: binary and softmax
    models) after its dataset seed, for "ovr" per class, for "regression" before
    it. Making a RandomState costs more than a small fit, so it is done once."""
    random_state = np.random.RandomState(random_state)
    if kind == "ovr":
        return ovr_shuffle_seed(random_state, n_classes)
    if kind == "binary":
        random_state.randint(1, np.iinfo(np.int32).max)
        return int(random_state.randint(MAX_INT))
    if kind == "regression":
        return int(random_state.randint(0, MAX_INT))
    raise ValueError(f"no shuffle seed of kind {kind!r}")


def _finite_copy(value, dtype, name):
    """`_finite_array(value, dtype, name)`; without scikit-learn's checks when value is
    a finite C-contiguous ndarray of `dtype` already (the model a fit continues)."""
    if (type(value) is np.ndarray and value.dtype == dtype and value.dtype in FLOAT_DTYPES
            and value.ndim in (1, 2) and value.flags.c_contiguous and value.size > 0
            and _checks.all_finite(value.reshape(-1))):
        return value.copy()
    return _finite_array(value, dtype, name)


def _finite_array(value, dtype, name):
    """A fresh C-contiguous array of `value` (dense, or a sparsified coef_) with finite
    values: a given coef_init / intercept_init, or the model a fit continues from."""
    if sp.issparse(value):  # coef_ after sparsify()
        value = value.toarray()
    with converting(f"{name} could not be converted"):
        return check_array(value, dtype=dtype, order="C", copy=True, ensure_2d=False,
                           ensure_min_samples=0, input_name=name)


def _check_csr_structure(X):
    """Refuse a CSR matrix whose index arrays would make the engine (or scipy) read
    outside its arrays: they are used without bounds checks."""
    n_rows, n_features = X.shape
    indptr, indices = X.indptr, X.indices
    if (indptr.shape != (n_rows + 1,) or indptr[0] != 0
            or indptr[-1] > min(indices.shape[0], X.data.shape[0])
            or np.any(indptr[1:] < indptr[:-1])):
        raise ValueError(
            "X is a malformed CSR matrix: its indptr must have n_rows + 1 = %d "
            "non-decreasing entries from 0 to at most the number of stored values."
            % (n_rows + 1))
    stored = indices[:indptr[-1]]
    if stored.shape[0] and (stored.min() < 0 or stored.max() >= n_features):
        raise ValueError(
            "X is a malformed CSR matrix: its column indices must lie in [0, %d)."
            % n_features)
    return X


def _canonical_csr(X):
    """CSR with sorted, duplicate-free indices; the same object when it already is."""
    if X.has_canonical_format:
        return X
    X = X.copy()
    X.sum_duplicates()  # also sorts the indices
    return X
