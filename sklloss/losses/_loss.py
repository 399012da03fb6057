"""Public loss classes over the compiled kernels of ``_kernels``.

Each loss class is the ONE description of its loss, from which every other layer
derives what it needs:

- ``name``: its name in ``LOSSES`` (scikit-learn's SGD names);
- ``kernel``: the code of its compiled kernel (``_kernels.LossCode``), and
  ``kernel_params()``: its parameter record (epsilon, quantile, power);
- ``link``: what prediction its raw score stands for (``_link``);
- ``interval_y_true`` and ``integer_y_true``: the targets it takes (real numbers in an
  interval, or integers in it: binary labels, class numbers);
- ``is_multiclass``: one raw score per class (K outputs) rather than one;
- ``gives_probabilities``: whether its link gives probabilities.

``BaseLoss`` holds the array plumbing (validation, dtypes, output buffers, sample
weights, threads, error messages); a concrete loss declares the above, states its
formula and declares its parameters.

Adding an element-wise loss (a new GLM's, say):

1. ``_kernels.pxd``: its scalar pair ``loss_<name>`` / ``grad_<name>``, and its
   declarations beside the others': a ``LossCode`` member, a type (struct) of its
   name, the type in ``loss_t``, and one line each in ``loss_of`` and ``grad_of``;
2. ``_switch.pxi``: one line;
3. here: one class (name, kernel, link, interval_y_true, parameters, docstring with
   its formula and "When to use"), in ``LOSSES``;
4. the README's loss table: one row.

Everything else follows: the estimators that take it (from its targets and outputs),
``predict`` through its link, the target check, the engine (which runs any code of
the switch), and the tests' loss lists.
"""
import numbers
import os
from types import MappingProxyType

import numpy as np

from . import _kernels
from ._kernels import LossCode
from ._link import (
    REAL_LINE,
    ClippedLinearLink,
    IdentityLink,
    Interval,
    LogitLink,
    LogLink,
    SoftmaxLink,
)

_FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _check_n_threads(n_threads):
    if isinstance(n_threads, (bool, np.bool_)) or not isinstance(n_threads, numbers.Integral):
        raise TypeError(f"n_threads must be an integer; got {n_threads!r}.")
    if n_threads == -1:
        return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (
            os.cpu_count() or 1
        )
    if n_threads < 1:
        raise ValueError(f"n_threads must be >= 1, or -1 for all CPUs; got {n_threads}.")
    return int(n_threads)


def _check_epsilon(epsilon):
    if isinstance(epsilon, (bool, np.bool_)) or not isinstance(epsilon, numbers.Real):
        raise TypeError(f"epsilon must be a real number; got {epsilon!r}.")
    if not (np.isfinite(epsilon) and epsilon >= 0):
        raise ValueError(f"epsilon must be a finite number >= 0; got {epsilon!r}.")


def _as_numeric_array(name, values):
    """``values`` as an ndarray of a real numeric dtype (no copy when it is one)."""
    try:
        array = np.asarray(values)
    except ValueError as exc:  # e.g. ragged nested lists
        raise ValueError(f"{name} could not be converted to an array: {exc}") from None
    if array.dtype.kind == "c":
        raise ValueError(f"{name} is complex; real numbers are expected.")
    if array.dtype.kind not in "biuf":
        try:
            array = array.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"{name} must be numeric; its dtype {array.dtype} could not be converted "
                f"to float: {exc}"
            ) from None
    return array


def _as_contiguous(name, values, dtype):
    """``values`` as a C-contiguous array of ``dtype``, copied only when needed."""
    return np.ascontiguousarray(_as_numeric_array(name, values), dtype=dtype)


def _output_buffer(name, out, shape, dtype):
    """Return (what the caller gets back, the contiguous buffer the kernel fills)."""
    if out is None:
        buffer = np.empty(shape, dtype=dtype)
        return buffer, buffer
    if not isinstance(out, np.ndarray):
        raise TypeError(f"{name} must be a numpy array; got {type(out).__name__}.")
    if out.dtype != dtype:
        raise ValueError(
            f"{name} must have dtype {dtype}, that of raw_prediction; got {out.dtype}."
        )
    if out.size != int(np.prod(shape)) or out.shape not in (shape, shape + (1,)):
        raise ValueError(f"{name} must have shape {shape}; got {out.shape}.")
    if not out.flags.c_contiguous:
        raise ValueError(f"{name} must be C-contiguous.")
    if not out.flags.writeable:
        raise ValueError(f"{name} is read-only.")
    return out, out.reshape(shape)


class BaseLoss:
    """Base class of the sklloss losses: array plumbing shared by every loss.

    A concrete loss sets ``name`` (its scikit-learn SGD name), ``kernel``, ``link``,
    ``interval_y_true``, ``integer_y_true``, ``is_multiclass`` and
    ``_parameter_names`` (see the module's docstring).

    Every method takes ``y_true`` and ``raw_prediction`` (the linear model's output
    ``X @ coef + intercept``, before any link function) of equal length, and an
    optional ``sample_weight``. The computation runs in the dtype of
    ``raw_prediction`` when it is float32 or float64 (float64 otherwise); ``y_true``
    and ``sample_weight`` are converted to it once when they differ, and no array is
    copied when it already has that dtype and is C-contiguous. The compiled kernels
    release the GIL; ``n_threads > 1`` splits the samples over OpenMP threads and
    gives the same result as one thread.

    Examples
    --------
    Every concrete loss has these methods:

    >>> import numpy as np
    >>> from sklloss.losses import BaseLoss, SquaredError
    >>> loss = SquaredError()
    >>> isinstance(loss, BaseLoss)
    True
    >>> loss.loss_gradient([1.0, 2.0], [0.0, 0.0])  # per sample, in one pass
    (array([0.5, 2. ]), array([-1., -2.]))
    >>> loss([1.0, 2.0], [0.0, 0.0], sample_weight=[1.0, 3.0])  # the weighted mean
    1.625
    >>> loss.gradient(np.ones(2, np.float32), np.zeros(2, np.float32)).dtype
    dtype('float32')
    """

    name = None
    kernel = None
    link = IdentityLink()
    interval_y_true = REAL_LINE
    integer_y_true = False
    is_multiclass = False
    # a regressor starts its intercept at fit_intercept_only (scikit-learn's SGD losses
    # do not: they keep its path, from zero)
    starts_at_best_constant = False
    _parameter_names = ()
    # the fields of the kernels' parameter record, zero where a loss has none
    _KERNEL_FIELDS = ("epsilon", "quantile", "power")

    def __init__(self):
        if self.name is None:
            raise TypeError(
                f"{type(self).__name__} has no kernel; use a concrete loss such as "
                "SquaredError() or get_loss(name)."
            )

    # -- what the loss is ------------------------------------------------------------
    @property
    def gives_probabilities(self):
        """Whether the link maps raw scores to probabilities (``predict_proba``)."""
        return self.link.gives_probabilities

    @property
    def task(self):
        """``"regression"``, ``"binary"`` or ``"multiclass"``, from the targets the loss
        takes."""
        if self.is_multiclass:
            return "multiclass"
        return "binary" if self.integer_y_true else "regression"

    def kernel_params(self):
        """The compiled kernel's parameter record, as a dict of its fields."""
        return dict(zip(self._KERNEL_FIELDS, self._kernel_record()))

    def fit_intercept_only(self, y_true, sample_weight=None):
        """The raw prediction of the best constant model (scikit-learn's
        ``BaseLoss.fit_intercept_only``): the link of the weighted mean of y, clipped
        into the link's range (a log link of a zero mean would be -inf).

        A regressor trained with one of the losses that scikit-learn's SGD lacks starts
        its intercept here (see ``SGDRegressor``).
        """
        mean = float(np.average(np.asarray(y_true, dtype=np.float64), weights=sample_weight))
        interval = self.link.interval_y_pred
        tiny = 10 * np.finfo(np.float64).eps
        low = interval.low if interval.low_inclusive else interval.low + tiny
        high = interval.high if interval.high_inclusive else interval.high - tiny
        return float(self.link.link(np.clip(mean, low, high)))

    def step_scale(self, y_true, sample_weight=None):
        """The factor of an SGD step for this loss: 1, except for the log-link losses,
        where it is one over the loss's mean curvature at the best constant model
        (see ``Poisson``), or None where y's weighted mean is not positive (no
        curvature to measure: all-zero counts, say)."""
        return 1.0

    def _kernel_record(self):
        """The parameter record as a tuple in _KERNEL_FIELDS order (what the kernels
        take; quick, for small arrays)."""
        if not self._parameter_names:
            return _NO_PARAMETERS
        values = dict.fromkeys(self._KERNEL_FIELDS, 0.0)
        for name in self._parameter_names:
            values[name] = float(getattr(self, name))
        return tuple(values.values())

    # -- parameters -----------------------------------------------------------------
    def get_params(self, deep=True):
        """Parameters of this loss, as a dict (scikit-learn's convention)."""
        return {name: getattr(self, name) for name in self._parameter_names}

    def set_params(self, **params):
        """Set parameters (validated as in the constructor) and return ``self``."""
        for key in params:
            if key not in self._parameter_names:
                raise ValueError(
                    f"Invalid parameter {key!r} for {type(self).__name__}; valid "
                    f"parameters are {list(self._parameter_names)}."
                )
        merged = {**self.get_params(), **params}
        type(self)(**merged)  # validates before anything changes
        for key, value in params.items():
            setattr(self, key, value)
        return self

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    def __eq__(self, other):
        return type(self) is type(other) and self.get_params() == other.get_params()

    def __hash__(self):
        return hash((type(self), tuple(self.get_params().items())))

    # -- public computations ----------------------------------------------------------
    def loss(self, y_true, raw_prediction, sample_weight=None, n_threads=1, *, out=None):
        """Per-sample loss, multiplied by ``sample_weight`` when given.

        Parameters
        ----------
        y_true : array-like of shape (n_samples,)
            Targets (regression), labels in {-1, +1} or {0, 1} (binary), or classes
            0 .. n_classes - 1 (multiclass).
        raw_prediction : array-like of shape (n_samples,) or (n_samples, n_classes)
            Raw predictions of the linear model; (n_samples, 1) is accepted for the
            single-output losses.
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sample weights (finite).
        n_threads : int, default=1
            OpenMP threads; -1 uses all available CPUs.
        out : ndarray of shape (n_samples,), default=None
            Buffer for the result, of the computation dtype and C-contiguous.

        Returns
        -------
        loss : ndarray of shape (n_samples,)
        """
        loss, _, _ = self._compute(y_true, raw_prediction, sample_weight, n_threads,
                                   want_loss=True, loss_out=out)
        return loss

    def gradient(self, y_true, raw_prediction, sample_weight=None, n_threads=1, *, out=None):
        """Per-sample derivative of the loss with respect to ``raw_prediction``.

        Multiplied by ``sample_weight`` when given. Parameters as in ``loss``; the
        result (and ``out``) has the shape of ``raw_prediction``: (n_samples,) for the
        single-output losses, (n_samples, n_classes) for the multinomial one.

        Returns
        -------
        gradient : ndarray
        """
        _, gradient, _ = self._compute(y_true, raw_prediction, sample_weight, n_threads,
                                       want_gradient=True, gradient_out=out)
        return gradient

    def loss_gradient(self, y_true, raw_prediction, sample_weight=None, n_threads=1, *,
                      loss_out=None, gradient_out=None):
        """Per-sample loss and derivative, computed in one pass.

        Parameters as in ``loss``; ``loss_out`` and ``gradient_out`` are optional
        buffers for the two results and must not overlap.

        Returns
        -------
        loss : ndarray of shape (n_samples,)
        gradient : ndarray of the shape of ``raw_prediction``
        """
        loss, gradient, _ = self._compute(
            y_true, raw_prediction, sample_weight, n_threads, want_loss=True,
            want_gradient=True, loss_out=loss_out, gradient_out=gradient_out,
        )
        return loss, gradient

    def __call__(self, y_true, raw_prediction, sample_weight=None, n_threads=1):
        """Mean loss, weighted by ``sample_weight`` when given.

        ``sum_i w_i loss_i / sum_i w_i`` (accumulated in float64), returned as a float.
        """
        loss, _, weights = self._compute(y_true, raw_prediction, sample_weight, n_threads,
                                         want_loss=True)
        if loss.shape[0] == 0:
            raise ValueError("The mean loss of zero samples is undefined.")
        total = np.sum(loss, dtype=np.float64)
        if weights is None:
            return float(total / loss.shape[0])
        weight_sum = np.sum(weights, dtype=np.float64)
        if weight_sum == 0:
            raise ValueError("sample_weight sums to zero: the weighted mean is undefined.")
        return float(total / weight_sum)

    # -- plumbing ---------------------------------------------------------------------
    def _compute(self, y_true, raw_prediction, sample_weight, n_threads, *,
                 want_loss=False, want_gradient=False, loss_out=None, gradient_out=None):
        raw = _as_numeric_array("raw_prediction", raw_prediction)
        dtype = raw.dtype if raw.dtype in _FLOAT_DTYPES else np.dtype(np.float64)
        raw = self._check_raw_prediction(np.ascontiguousarray(raw, dtype=dtype))
        n_samples = raw.shape[0]
        y = _as_contiguous("y_true", y_true, dtype)
        if y.ndim != 1:
            raise ValueError(f"y_true must be 1-dimensional; got shape {y.shape}.")
        if y.shape[0] != n_samples:
            raise ValueError(
                "y_true and raw_prediction have inconsistent numbers of samples: "
                f"{y.shape[0]} and {n_samples}."
            )
        weights = None
        if sample_weight is not None:
            weights = _as_contiguous("sample_weight", sample_weight, dtype)
            if weights.shape != (n_samples,):
                raise ValueError(
                    f"sample_weight must have shape ({n_samples},); got {weights.shape}."
                )
        n_threads = _check_n_threads(n_threads)

        loss = loss_buffer = gradient = gradient_buffer = None
        if want_loss:
            name = "loss_out" if want_gradient else "out"
            loss, loss_buffer = _output_buffer(name, loss_out, (n_samples,), dtype)
        if want_gradient:
            name = "gradient_out" if want_loss else "out"
            gradient, gradient_buffer = _output_buffer(name, gradient_out, raw.shape, dtype)
        if want_loss and want_gradient and np.may_share_memory(loss_buffer, gradient_buffer):
            raise ValueError("loss_out and gradient_out must not overlap.")

        if self.kernel is None:
            raise TypeError(
                f"{type(self).__name__} has no compiled kernel (its `kernel` is None): "
                "only the losses of sklloss.losses.LOSSES can be computed.")
        if not (self.integer_y_true or self.interval_y_true is REAL_LINE
                or self.interval_y_true.is_real_line):
            self._check_labels(y, raw)  # (before any compiled code runs)
        if raw.ndim == 1:
            n_outputs, flat_raw, flat_gradient = 1, raw, gradient_buffer
        else:  # (n, K): the kernels take C-order rows of K values
            n_outputs, flat_raw = raw.shape[1], raw.reshape(-1)
            flat_gradient = None if gradient_buffer is None else gradient_buffer.reshape(-1)
        if _kernels.compute(self.kernel, *self._kernel_record(), y, flat_raw, n_outputs,
                            weights, loss_buffer, flat_gradient, n_threads):
            self._raise_bad_input(y, raw, weights)  # (returns if there is none)
        return loss, gradient, weights

    def _check_raw_prediction(self, raw):
        """(n,) or (n, 1) raw predictions, returned as (n,); (n, K) for a multi-class
        loss."""
        if self.is_multiclass:
            if raw.ndim != 2 or raw.shape[1] < 1:
                raise ValueError(
                    f"{type(self).__name__} takes raw_prediction of shape (n_samples, "
                    f"n_classes); got shape {raw.shape}.")
            return raw
        if raw.ndim == 2 and raw.shape[1] == 1:
            raw = raw.reshape(-1)
        if raw.ndim != 1:
            raise ValueError(
                f"{type(self).__name__} takes raw_prediction of shape (n_samples,) or "
                f"(n_samples, 1); got shape {raw.shape}."
            )
        return raw

    def _raise_bad_input(self, y, raw, weights):
        """The kernel may have seen bad input: say what it is (slow path, only then).

        Returns if there is none: the kernels of the element-wise losses flag an
        infinite raw prediction too (their check is the cheaper for it), which is good
        input for them."""
        if np.isnan(y).any():
            raise ValueError("y_true contains NaN.")
        self._check_labels(y, raw)
        if np.isnan(raw).any():
            raise ValueError("raw_prediction contains NaN.")
        if weights is not None and not np.isfinite(weights).all():
            raise ValueError("sample_weight contains NaN or infinity.")
        if not self.is_multiclass:
            return
        raise ValueError(  # the multinomial loss: inf - inf
            f"{type(self).__name__} needs finite raw predictions; raw_prediction "
            "contains infinity."
        )

    def _check_labels(self, y, raw):
        """Raise if y_true holds a target the loss does not take (its interval, and
        integers when integer_y_true)."""
        if self.is_multiclass:
            n_classes = raw.shape[1]
            valid = (y >= 0) & (y < n_classes) & (y == np.floor(y))
            if not valid.all():
                raise ValueError(
                    f"{type(self).__name__} takes integer classes 0 .. {n_classes - 1} "
                    f"in y_true (raw_prediction has {n_classes} columns); got "
                    f"{_some_values(y[~valid])}.")
        elif self.integer_y_true:  # binary labels: the integers of [-1, 1]
            valid = np.isin(y, (-1.0, 0.0, 1.0))
            if not valid.all():
                raise ValueError(
                    f"{type(self).__name__} is a binary loss: y_true must hold labels in "
                    f"{{-1, +1}} or {{0, 1}}; got {_some_values(y[~valid])}.")
        else:
            if np.isnan(y).any():
                raise ValueError("y_true contains NaN.")
            if np.isinf(y).any() and self.interval_y_true.is_real_line:
                raise ValueError("y_true contains infinity.")
            valid = self.interval_y_true.contains(y)
            if not valid.all():
                raise ValueError(
                    f"{type(self).__name__} takes y_true in {self.interval_y_true}; got "
                    f"{_some_values(y[~valid])}.")


def _some_values(values, limit=5):
    unique = np.unique(values)
    shown = ", ".join(repr(float(v)) for v in unique[:limit])
    return shown + (f", ... ({unique.size} distinct)" if unique.size > limit else "")


_NO_PARAMETERS = (0.0, 0.0, 0.0)

# binary labels: the integers -1, 0 (the negative class) and +1
_BINARY_LABELS = Interval(-1, 1, True, True)


class _EpsilonLoss(BaseLoss):
    _parameter_names = ("epsilon",)

    def __init__(self, epsilon=0.1):
        super().__init__()
        _check_epsilon(epsilon)
        self.epsilon = epsilon

    def _kernel_record(self):
        return (float(self.epsilon), 0.0, 0.0)


class SquaredError(BaseLoss):
    """Squared error, scikit-learn's ``loss="squared_error"``.

    ``loss(y, p) = 1/2 (y - p)^2``, derivative ``p - y``.

    When to use: least-squares regression, the conditional mean; every residual
    counts by its square, so a few gross outliers can dominate.

    Examples
    --------
    >>> from sklloss.losses import SquaredError
    >>> SquaredError().loss([1.0, 2.0], [0.0, 0.0])
    array([0.5, 2. ])
    """

    name = "squared_error"
    kernel = LossCode.SQUARED_ERROR


class Huber(_EpsilonLoss):
    """Huber loss, scikit-learn's ``loss="huber"``.

    With ``r = y - p``: ``loss = 1/2 r^2`` if ``|r| <= epsilon`` else
    ``epsilon |r| - 1/2 epsilon^2``; derivative ``p - y`` clipped to
    ``[-epsilon, epsilon]``.

    When to use: regression with outliers in y: quadratic for residuals within
    epsilon, linear beyond, so a gross error pulls no harder than epsilon.

    Parameters
    ----------
    epsilon : float >= 0, default=0.1
        Where the loss turns from quadratic to linear.

    Examples
    --------
    >>> from sklloss.losses import Huber
    >>> Huber(epsilon=1.0).loss([0.0, 0.0], [0.5, 3.0])
    array([0.125, 2.5  ])
    """

    name = "huber"
    kernel = LossCode.HUBER


class EpsilonInsensitive(_EpsilonLoss):
    """Epsilon-insensitive loss (linear SVR), scikit-learn's ``"epsilon_insensitive"``.

    ``loss = max(0, |y - p| - epsilon)``; derivative ``-1`` if ``y - p > epsilon``,
    ``+1`` if ``p - y > epsilon``, else ``0``.

    When to use: linear support vector regression: residuals within epsilon cost
    nothing, larger ones linearly; robust to outliers.

    Parameters
    ----------
    epsilon : float >= 0, default=0.1
        Errors up to ``epsilon`` cost nothing.

    Examples
    --------
    >>> from sklloss.losses import EpsilonInsensitive
    >>> EpsilonInsensitive(epsilon=0.5).loss([0.0, 0.0], [0.25, 2.0])
    array([0. , 1.5])
    """

    name = "epsilon_insensitive"
    kernel = LossCode.EPSILON_INSENSITIVE


class SquaredEpsilonInsensitive(_EpsilonLoss):
    """Squared epsilon-insensitive loss, scikit-learn's ``"squared_epsilon_insensitive"``.

    ``loss = max(0, |y - p| - epsilon)^2``; derivative, with ``r = y - p``,
    ``-2 (r - epsilon)`` if ``r > epsilon``, ``-2 (r + epsilon)`` if
    ``r < -epsilon``, else ``0``.

    When to use: support vector regression with a smooth, quadratic cost outside the
    epsilon tube.

    Parameters
    ----------
    epsilon : float >= 0, default=0.1
        Errors up to ``epsilon`` cost nothing.

    Examples
    --------
    >>> from sklloss.losses import SquaredEpsilonInsensitive
    >>> SquaredEpsilonInsensitive(epsilon=0.5).loss([0.0, 0.0], [0.25, 2.0])
    array([0.  , 2.25])
    """

    name = "squared_epsilon_insensitive"
    kernel = LossCode.SQUARED_EPSILON_INSENSITIVE


class LogLoss(BaseLoss):
    """Logistic loss (binary cross-entropy), scikit-learn's ``loss="log_loss"``.

    With labels ``y`` in {-1, +1} (or {0, 1}, 0 meaning -1) and margin ``z = y p``:
    ``loss = log(1 + exp(-z))``, derivative ``-y / (1 + exp(z))``. Evaluated as
    ``max(-z, 0) + log1p(exp(-|z|))``, finite and accurate for every finite ``p``.

    When to use: logistic regression: calibrated probabilities (predict_proba); one-
    vs-rest for several classes.

    Examples
    --------
    >>> from sklloss.losses import LogLoss
    >>> LogLoss().loss([1, 0], [0.0, 0.0])
    array([0.69314718, 0.69314718])
    """

    name = "log_loss"
    kernel = LossCode.LOG_LOSS
    link = LogitLink()
    interval_y_true = _BINARY_LABELS
    integer_y_true = True


class Hinge(BaseLoss):
    """Hinge loss (linear SVM), scikit-learn's ``loss="hinge"``.

    With ``z = y p``: ``loss = max(0, 1 - z)``; derivative ``-y`` if ``z <= 1``
    else ``0`` (scikit-learn's subgradient at the kink).

    When to use: a linear SVM (the classifier's default): maximum margin; no
    probabilities.

    Examples
    --------
    >>> from sklloss.losses import Hinge
    >>> Hinge().loss([1, -1], [0.5, 0.5])
    array([0.5, 1.5])
    """

    name = "hinge"
    kernel = LossCode.HINGE
    link = IdentityLink()
    interval_y_true = _BINARY_LABELS
    integer_y_true = True


class Perceptron(BaseLoss):
    """Perceptron loss, scikit-learn's ``loss="perceptron"``.

    With ``z = y p``: ``loss = max(0, -z)``; derivative ``-y`` if ``z <= 0`` else
    ``0``.

    When to use: the perceptron: learns only from mistakes; a fast baseline.

    Examples
    --------
    >>> from sklloss.losses import Perceptron
    >>> Perceptron().loss([1, -1], [0.5, 0.5])
    array([0. , 0.5])
    """

    name = "perceptron"
    kernel = LossCode.PERCEPTRON
    link = IdentityLink()
    interval_y_true = _BINARY_LABELS
    integer_y_true = True


class SquaredHinge(BaseLoss):
    """Squared hinge loss, scikit-learn's ``loss="squared_hinge"``.

    With ``z = y p``: ``loss = max(0, 1 - z)^2``; derivative ``-2 y (1 - z)`` if
    ``z < 1`` else ``0``.

    When to use: a smooth linear SVM (L2-SVM): margin violations cost their square.

    Examples
    --------
    >>> from sklloss.losses import SquaredHinge
    >>> SquaredHinge().loss([1, -1], [0.5, 0.5])
    array([0.25, 2.25])
    """

    name = "squared_hinge"
    kernel = LossCode.SQUARED_HINGE
    link = IdentityLink()
    interval_y_true = _BINARY_LABELS
    integer_y_true = True


class ModifiedHuber(BaseLoss):
    """Modified Huber loss, scikit-learn's ``loss="modified_huber"``.

    With ``z = y p``: ``loss = max(0, 1 - z)^2`` if ``z >= -1`` else ``-4 z``;
    derivative ``0`` if ``z >= 1``, ``-2 y (1 - z)`` if ``-1 <= z < 1``, ``-4 y`` if
    ``z < -1``.

    When to use: a classifier tolerant of outliers that still gives rough
    probabilities: a smoothed hinge, linear for badly misclassified rows.

    Examples
    --------
    >>> from sklloss.losses import ModifiedHuber
    >>> ModifiedHuber().loss([1, 1, 1], [2.0, 0.5, -3.0])
    array([ 0.  ,  0.25, 12.  ])
    """

    name = "modified_huber"
    kernel = LossCode.MODIFIED_HUBER
    link = ClippedLinearLink()
    interval_y_true = _BINARY_LABELS
    integer_y_true = True


class MultinomialLogLoss(BaseLoss):
    """Multinomial logistic loss (categorical cross-entropy) over K raw outputs.

    With classes ``y`` in 0 .. K-1 and raw predictions ``p`` of shape (n, K):
    ``loss = log(sum_k exp(p_k)) - p_y``, derivative ``softmax(p)_k - [k == y]``
    (shape (n, K)). Computed with the row maximum subtracted (log-sum-exp), so
    every finite input gives a finite result.

    When to use: multi-class logistic (softmax) regression: one joint model with
    calibrated multi-class probabilities (SGDClassifier's
    loss='multinomial_log_loss').

    Examples
    --------
    >>> import numpy as np
    >>> from sklloss.losses import MultinomialLogLoss
    >>> loss = MultinomialLogLoss()
    >>> loss.loss([0, 2], np.zeros((2, 3)))
    array([1.09861229, 1.09861229])
    >>> loss.gradient([0], [[0.0, 0.0]])
    array([[-0.5,  0.5]])
    """

    name = "multinomial_log_loss"
    kernel = LossCode.MULTINOMIAL_LOG_LOSS
    link = SoftmaxLink()
    interval_y_true = Interval(0, np.inf, True, False)  # (and below the raw columns)
    integer_y_true = True
    is_multiclass = True


def _check_real(name, value, low=None, high=None):
    """A real parameter, finite, in the open interval (low, high) when given."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number; got {value!r}.")
    if not np.isfinite(value) or (low is not None and not value > low) or (
            high is not None and not value < high):
        bounds = (f" in ({low:g}, {high:g})" if low is not None and high is not None
                  else "")
        raise ValueError(f"{name} must be a finite number{bounds}; got {value!r}.")


class _LogLinkLoss(BaseLoss):
    """A regression loss whose prediction is exp(raw): the mean of a count, a cost.

    Its SGD steps are scaled by one over the loss's mean curvature at the best
    constant model, ``mean(y) ** (2 - power)`` (Poisson: power 1, Gamma: power 2):
    the derivative of the loss grows with the scale of y as ``mean(y) ** (2 - power)``
    does, so the scaled steps, and the fit, do not depend on the unit y is measured
    in (counts per day or per year); Gamma's already do not. Targets whose mean is
    not positive (a chunk of zero counts) give no scale: the steps are then unscaled
    until a call whose targets have one.
    """

    link = LogLink()
    starts_at_best_constant = True
    _power = None

    def step_scale(self, y_true, sample_weight=None):
        mean = float(np.average(np.asarray(y_true, dtype=np.float64), weights=sample_weight))
        if not mean > 0:
            return None  # (the best constant's mean is clipped to ~1e-15: no scale)
        return float(1.0 / mean ** (2.0 - self._power))


class Poisson(_LogLinkLoss):
    """Half Poisson deviance with a log link: counts, frequencies, rates.

    ``loss(y, p) = exp(p) - y p``, derivative ``exp(p) - y``, for targets ``y >= 0``;
    the prediction is ``exp(p)``, the Poisson mean. Half the Poisson deviance
    ``2 (y log(y / mu) - y + mu)`` at ``mu = exp(p)`` less a term in y alone, as
    scikit-learn's ``HalfPoissonLoss`` (the same values); ``PoissonRegressor``'s model.
    Where ``exp(p)`` overflows the loss is ``+inf``, never NaN.

    When to use: counts (claims, visits, clicks) and rates: with an exposure, y the
    count divided by it and the exposure as ``sample_weight``.

    Examples
    --------
    >>> from sklloss.losses import Poisson
    >>> Poisson().loss([0.0, 2.0], [0.0, 0.0])
    array([1., 1.])
    """

    name = "poisson"
    kernel = LossCode.POISSON
    interval_y_true = Interval(0, np.inf, True, False)
    _power = 1.0


class Gamma(_LogLinkLoss):
    """Half Gamma deviance with a log link: positive, skewed amounts (costs, sizes).

    ``loss(y, p) = p + y exp(-p)``, derivative ``1 - y exp(-p)``, for ``y > 0``; the
    prediction is ``exp(p)``. Half the Gamma deviance ``2 (log(mu / y) + y / mu - 1)``
    less a term in y alone, as scikit-learn's ``HalfGammaLoss``; ``GammaRegressor``'s
    model. Its errors count relative to the mean: doubling every y adds log 2 to the
    best p and changes nothing else.

    When to use: claim severities, durations, prices: positive targets whose spread
    grows with their mean.

    Examples
    --------
    >>> from sklloss.losses import Gamma
    >>> Gamma().loss([1.0, 2.0], [0.0, 0.0])
    array([1., 2.])
    """

    name = "gamma"
    kernel = LossCode.GAMMA
    interval_y_true = Interval(0, np.inf, False, False)
    _power = 2.0


class Tweedie(_LogLinkLoss):
    """Half Tweedie deviance with a log link, of power ``power``.

    With ``mu = exp(p)``, as scikit-learn's ``HalfTweedieLoss(power)`` (the same
    values): ``1/2 (mu - y)^2`` for power 0, ``Poisson``'s loss for power 1,
    ``Gamma``'s for power 2, and otherwise
    ``loss = exp((2 - power) p) / (2 - power) - y exp((1 - power) p) / (1 - power)``,
    derivative ``exp((2 - power) p) - y exp((1 - power) p)`` (power 0:
    ``mu (mu - y)``). Targets: any real for power <= 0, ``y >= 0`` for
    1 <= power < 2, ``y > 0`` for power >= 2; there is no Tweedie distribution for
    0 < power < 1, which is refused as ``TweedieRegressor`` refuses it. Where a term
    overflows the result is its limit (``+-inf``), never NaN.

    When to use: 1 < power < 2 is a compound Poisson-Gamma: many exact zeros and
    positive skewed amounts (an insurance policy's total claim cost, rainfall).

    Parameters
    ----------
    power : float, default=1.5
        The Tweedie power: the variance is proportional to ``mu ** power``.

    Examples
    --------
    >>> from sklloss.losses import Tweedie
    >>> Tweedie(power=1.5).loss([0.0, 1.0], [0.0, 0.0])
    array([2., 4.])
    """

    name = "tweedie"
    kernel = LossCode.TWEEDIE
    _parameter_names = ("power",)

    def __init__(self, power=1.5):
        super().__init__()
        _check_real("power", power)
        if 0 < power < 1:
            raise ValueError(
                f"power must be <= 0 or >= 1 (no Tweedie distribution exists for "
                f"0 < power < 1); got {power!r}.")
        self.power = power

    @property
    def _power(self):
        return float(self.power)

    @property
    def interval_y_true(self):
        """Any real y for power <= 0, y >= 0 for power < 2, y > 0 beyond (as
        scikit-learn's ``HalfTweedieLoss``)."""
        if self.power <= 0:
            return REAL_LINE
        return Interval(0, np.inf, self.power < 2, False)

    def _kernel_record(self):
        return (0.0, 0.0, float(self.power))


class Quantile(BaseLoss):
    """Pinball loss of the quantile ``quantile``: conditional quantiles.

    ``loss(y, p) = q (y - p)`` if ``y >= p`` else ``(1 - q) (p - y)``, with
    ``q = quantile``; derivative ``-q`` if ``y >= p`` (the kink included, as
    scikit-learn's ``PinballLoss``) else ``1 - q``. Identity link; any real y. Its
    minimiser over constants is the q-quantile of y: ``QuantileRegressor``'s model.

    When to use: prediction intervals (the 0.05 and 0.95 quantiles, say), or a median
    regression robust to outliers in y (``quantile=0.5``, half the absolute error).

    Parameters
    ----------
    quantile : float in (0, 1), default=0.5
        The quantile to predict.

    Examples
    --------
    >>> from sklloss.losses import Quantile
    >>> Quantile(quantile=0.9).loss([1.0, 1.0], [0.0, 2.0])
    array([0.9, 0.1])
    """

    name = "quantile"
    kernel = LossCode.QUANTILE
    starts_at_best_constant = True
    _parameter_names = ("quantile",)

    def __init__(self, quantile=0.5):
        super().__init__()
        _check_real("quantile", quantile, 0, 1)
        self.quantile = quantile

    def _kernel_record(self):
        return (0.0, float(self.quantile), 0.0)

    def fit_intercept_only(self, y_true, sample_weight=None):
        """The best constant: the weighted ``quantile``-quantile of y (the smallest
        value whose weighted share of y at or below it reaches q)."""
        return _weighted_quantile(y_true, sample_weight, float(self.quantile))


class AbsoluteError(BaseLoss):
    """Absolute error: the conditional median.

    ``loss(y, p) = |y - p|``, derivative ``+1`` if ``p > y`` else ``-1`` (the kink
    included, as scikit-learn's ``AbsoluteError``). Identity link; any real y. Twice
    ``Quantile(0.5)``'s loss.

    When to use: median regression, robust to outliers in y; ``mean_absolute_error``
    as the training loss.

    Examples
    --------
    >>> from sklloss.losses import AbsoluteError
    >>> AbsoluteError().loss([1.0, 1.0], [0.0, 3.0])
    array([1., 2.])
    """

    name = "absolute_error"
    kernel = LossCode.ABSOLUTE_ERROR
    starts_at_best_constant = True

    def fit_intercept_only(self, y_true, sample_weight=None):
        """The best constant: the weighted median of y."""
        return _weighted_quantile(y_true, sample_weight, 0.5)


def _weighted_quantile(y_true, sample_weight, q):
    """The smallest y whose weighted share of the targets at or below it is >= q
    (numpy's 'inverted_cdf' quantile, with weights)."""
    y = np.asarray(y_true, dtype=np.float64)
    if sample_weight is None:
        return float(np.quantile(y, q, method="inverted_cdf"))
    order = np.argsort(y, kind="stable")
    cumulative = np.cumsum(np.asarray(sample_weight, dtype=np.float64)[order])
    position = np.searchsorted(cumulative, q * cumulative[-1], side="left")
    return float(y[order][min(position, y.shape[0] - 1)])


LOSSES = MappingProxyType({
    cls.name: cls
    for cls in (
        SquaredError, Huber, EpsilonInsensitive, SquaredEpsilonInsensitive, LogLoss,
        Hinge, Perceptron, SquaredHinge, ModifiedHuber, MultinomialLogLoss, Poisson,
        Gamma, Tweedie, Quantile, AbsoluteError,
    )
})
"""Loss name (scikit-learn's SGD names, plus ``"multinomial_log_loss"`` and the
regression losses of scikit-learn's GLM and quantile estimators) -> loss class.

Examples
--------
>>> from sklloss.losses import LOSSES
>>> LOSSES["huber"]
<class 'sklloss.losses._loss.Huber'>
>>> sorted(name for name, loss in LOSSES.items() if loss.link.name == "log")
['gamma', 'poisson', 'tweedie']
"""


def get_loss(name, **params):
    """The loss object for a scikit-learn SGD loss name.

    Parameters
    ----------
    name : str or BaseLoss
        One of ``LOSSES``: "squared_error", "huber", "epsilon_insensitive",
        "squared_epsilon_insensitive", "log_loss", "hinge", "perceptron",
        "squared_hinge", "modified_huber", "multinomial_log_loss", "poisson",
        "gamma", "tweedie", "quantile", "absolute_error". A loss object is returned as
        it is (no parameters may then be given).
    **params
        Parameters of the loss, e.g. ``epsilon`` for "huber", ``power`` for
        "tweedie", ``quantile`` for "quantile".

    Returns
    -------
    loss : BaseLoss

    Examples
    --------
    >>> from sklloss.losses import get_loss
    >>> get_loss("huber", epsilon=2.0)
    Huber(epsilon=2.0)
    """
    if isinstance(name, BaseLoss):
        if params:
            raise TypeError(f"get_loss got a loss object {name!r}; it takes no parameters.")
        return name
    if not isinstance(name, str) or name not in LOSSES:
        raise ValueError(f"Unknown loss {name!r}; expected one of {sorted(LOSSES)}.")
    cls = LOSSES[name]
    unexpected = sorted(set(params) - set(cls._parameter_names))
    if unexpected:
        takes = (f"its parameters are {list(cls._parameter_names)}"
                 if cls._parameter_names else "it takes no parameters")
        raise TypeError(f"Loss {name!r} got unexpected parameters {unexpected}; {takes}.")
    return cls(**params)
