"""SGD linear models on sklloss's compiled engine: drop-in replacements for
scikit-learn's ``SGDClassifier`` and ``SGDRegressor``."""
from ._sgd import SGDClassifier, SGDRegressor
from ._sgd_base import InputConversionError

__all__ = ["SGDClassifier", "SGDRegressor", "InputConversionError"]
