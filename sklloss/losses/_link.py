"""Links between a linear model's raw score and its prediction, and value intervals.

A loss is a function of the raw score ``raw = X @ coef + intercept``; its link says
what prediction that score stands for: ``prediction = link.inverse(raw)`` and
``raw = link.link(prediction)``, as in scikit-learn's ``sklearn/_loss/link.py``.
The estimators predict through it (``predict`` of a regressor, ``predict_proba`` of a
classifier), so a loss whose prediction is not its raw score (a log link: exp(raw))
needs no special case in them.
"""
from dataclasses import dataclass

import numpy as np
from scipy.special import expit, logit
from sklearn.utils.extmath import softmax


@dataclass(frozen=True)
class Interval:
    """The real numbers from ``low`` to ``high``, each end included or not.

    ``interval_y_true`` of a loss says which targets it takes (scikit-learn's
    ``sklearn._loss.link.Interval``).

    Examples
    --------
    >>> from sklloss.losses import Gamma, Interval
    >>> positive = Gamma().interval_y_true
    >>> print(positive)
    (0, inf)
    >>> positive.contains([-1.0, 0.0, 2.0])
    array([False, False,  True])
    >>> Interval(0, 1, True, True).includes([0.0, 0.5, 1.0])
    True
    """

    low: float
    high: float
    low_inclusive: bool
    high_inclusive: bool

    def contains(self, x):
        """Element-wise: whether each value of ``x`` lies in the interval (False for
        NaN)."""
        x = np.asarray(x)
        low = x >= self.low if self.low_inclusive else x > self.low
        high = x <= self.high if self.high_inclusive else x < self.high
        return low & high

    def includes(self, x):
        """Whether every value of ``x`` lies in the interval (scikit-learn's
        ``Interval.includes``)."""
        return bool(np.all(self.contains(x)))

    @property
    def is_real_line(self):
        return self.low == -np.inf and self.high == np.inf

    def __str__(self):
        return "%s%g, %g%s" % ("[" if self.low_inclusive else "(", self.low, self.high,
                               "]" if self.high_inclusive else ")")


REAL_LINE = Interval(-np.inf, np.inf, False, False)


class BaseLink:
    """A link: ``inverse`` maps raw scores to predictions, ``link`` back.

    ``gives_probabilities`` says whether ``inverse`` gives probabilities (of the
    positive class, or of each class for a multi-class link).

    Examples
    --------
    Every loss holds one; the estimators predict through it:

    >>> from sklloss.losses import LogLoss, Poisson, SquaredError
    >>> [loss().link.name for loss in (SquaredError, Poisson, LogLoss)]
    ['identity', 'log', 'logit']
    >>> LogLoss().link.gives_probabilities
    True
    """

    name = None
    gives_probabilities = False
    interval_y_pred = REAL_LINE

    def link(self, y_pred):
        raise NotImplementedError

    def inverse(self, raw_prediction):
        raise NotImplementedError

    def __repr__(self):
        return f"{type(self).__name__}()"

    def __eq__(self, other):
        return type(self) is type(other)

    def __hash__(self):
        return hash(type(self))


class IdentityLink(BaseLink):
    """prediction = raw (returned as it is, not copied).

    Examples
    --------
    >>> import numpy as np
    >>> from sklloss.losses import IdentityLink
    >>> raw = np.array([-1.0, 2.0])
    >>> IdentityLink().inverse(raw) is raw
    True
    """

    name = "identity"

    def link(self, y_pred):
        return y_pred

    def inverse(self, raw_prediction):
        return raw_prediction


class LogLink(BaseLink):
    """prediction = exp(raw): a positive mean (Poisson, Gamma, Tweedie).

    Examples
    --------
    >>> from sklloss.losses import LogLink
    >>> LogLink().inverse([0.0, 1.0])
    array([1.        , 2.71828183])
    >>> LogLink().link([1.0, 100.0])
    array([0.        , 4.60517019])
    """

    name = "log"

    interval_y_pred = Interval(0, np.inf, False, False)

    def link(self, y_pred):
        return np.log(y_pred)

    def inverse(self, raw_prediction):
        return np.exp(raw_prediction)


class LogitLink(BaseLink):
    """probability = expit(raw) = 1 / (1 + exp(-raw)): the logistic loss.

    Examples
    --------
    >>> from sklloss.losses import LogitLink
    >>> LogitLink().inverse([-2.0, 0.0, 2.0])
    array([0.11920292, 0.5       , 0.88079708])
    >>> LogitLink().link([0.5])
    array([0.])
    """

    name = "logit"

    gives_probabilities = True
    interval_y_pred = Interval(0, 1, False, False)

    def link(self, y_pred):
        return logit(y_pred)

    def inverse(self, raw_prediction):
        return expit(raw_prediction)


class ClippedLinearLink(BaseLink):
    """probability = (clip(raw, -1, 1) + 1) / 2: modified Huber's probability
    estimate (Zhang, 2004, as scikit-learn's SGDClassifier computes it).

    Examples
    --------
    >>> from sklloss.losses import ClippedLinearLink
    >>> ClippedLinearLink().inverse([-3.0, 0.0, 0.5, 3.0])
    array([0.  , 0.5 , 0.75, 1.  ])
    """

    name = "clipped_linear"

    gives_probabilities = True
    interval_y_pred = Interval(0, 1, True, True)

    def link(self, y_pred):
        return 2 * np.asarray(y_pred) - 1

    def inverse(self, raw_prediction):
        return (np.clip(raw_prediction, -1, 1) + 1) / 2


class SoftmaxLink(BaseLink):
    """probabilities = softmax(raw) over the K raw scores of a row; ``link`` gives the
    symmetric raw scores (log-probabilities minus their row mean), as scikit-learn's
    ``MultinomialLogit``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklloss.losses import SoftmaxLink
    >>> probabilities = SoftmaxLink().inverse(np.array([[0.0, 0.0, np.log(2.0)]]))
    >>> probabilities
    array([[0.25, 0.25, 0.5 ]])
    >>> SoftmaxLink().inverse(SoftmaxLink().link(probabilities))
    array([[0.25, 0.25, 0.5 ]])
    """

    name = "softmax"

    gives_probabilities = True
    interval_y_pred = Interval(0, 1, False, False)

    def link(self, y_pred):
        log_p = np.log(y_pred)
        return log_p - log_p.mean(axis=1, keepdims=True)

    def inverse(self, raw_prediction, out=None):
        """The softmax of each row (into ``out`` when given, which may be
        ``raw_prediction`` itself)."""
        if out is None:
            out = np.array(raw_prediction, dtype=np.result_type(raw_prediction, np.float32))
        elif out is not raw_prediction:
            out[...] = raw_prediction
        return softmax(out, copy=False)
