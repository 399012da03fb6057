"""SGD linear models on sklloss's compiled engine: drop-in replacements for
scikit-learn's ``SGDClassifier``, ``SGDRegressor``, ``SGDOneClassSVM`` and
``Perceptron``."""
from ._sgd import SGDClassifier, SGDRegressor
from ._sgd_base import InputConversionError
from ._one_class import SGDOneClassSVM
from ._perceptron import Perceptron

__all__ = ["SGDClassifier", "SGDRegressor", "SGDOneClassSVM", "Perceptron",
           "InputConversionError"]
