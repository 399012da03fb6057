"""SGD linear models on sklloss's compiled engine: drop-in replacements for
scikit-learn's ``SGDClassifier`` and ``SGDRegressor``."""
from ._sgd import SGDClassifier, SGDRegressor

__all__ = ["SGDClassifier", "SGDRegressor"]
