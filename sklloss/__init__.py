"""sklloss: compiled loss kernels and SGD linear models for scikit-learn users."""
import os

from . import losses
from .linear_model import InputConversionError, SGDClassifier, SGDRegressor

__version__ = "0.1.0.dev0"

__all__ = ["SGDClassifier", "SGDRegressor", "InputConversionError", "losses", "get_include",
           "__version__"]


def get_include():
    """Directory to add to Cython's include path to cimport sklloss's kernels.

    The installed package ships its ``.pxd`` files, so
    ``from sklloss.losses._kernels cimport loss_hinge`` works once this directory
    (the one that contains the ``sklloss`` package) is on the include path.
    """
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
