"""The tests' loss lists, derived from the registry (``sklloss.losses.LOSSES``) and
the loss descriptions: a new loss is taken up by every test that applies to it,
without an edit here (and a test with a reference formula per loss then fails until
the new loss has one)."""
from sklearn import linear_model as sk

from sklloss import SGDClassifier, SGDRegressor
from sklloss.losses import LOSSES


def _names(predicate):
    return tuple(name for name, cls in LOSSES.items() if predicate(cls))


# by the targets they take
REGRESSION = _names(lambda cls: not cls.integer_y_true and not cls.is_multiclass)
BINARY = _names(lambda cls: cls.integer_y_true and not cls.is_multiclass)
MULTICLASS = _names(lambda cls: cls.is_multiclass)
SINGLE_OUTPUT = REGRESSION + BINARY
ALL = tuple(LOSSES)
# by their parameters
EPSILON_LOSSES = _names(lambda cls: "epsilon" in cls._parameter_names)
# what each estimator takes, and what scikit-learn's takes too (to compare with it)
CLASSIFIER = tuple(SGDClassifier._allowed_losses)
REGRESSOR = tuple(SGDRegressor._allowed_losses)
SKLEARN_CLASSIFIER = tuple(name for name in CLASSIFIER if name in sk.SGDClassifier.loss_functions)
SKLEARN_REGRESSOR = tuple(name for name in REGRESSOR if name in sk.SGDRegressor.loss_functions)
