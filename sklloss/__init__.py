"""sklloss: compiled loss kernels and SGD linear models for scikit-learn users."""
import os

try:
    from . import losses
except ImportError as error:  # pragma: no cover - depends on how it was built
    _here = os.path.dirname(os.path.abspath(__file__))
    if not any(name.startswith("_kernels.") and name.endswith((".so", ".pyd"))
               for name in os.listdir(os.path.join(_here, "losses"))):
        raise ImportError(
            f"sklloss is being imported from {_here}, a source tree whose compiled "
            "extensions are not built: run `pip install .` in its parent directory "
            "(that builds them there too), or start Python in another directory to "
            "use an installed sklloss.") from error
    raise
from .linear_model import (
    InputConversionError,
    Perceptron,
    SGDClassifier,
    SGDOneClassSVM,
    SGDRegressor,
)

__version__ = "0.1.0.dev0"

__all__ = ["SGDClassifier", "SGDRegressor", "SGDOneClassSVM", "Perceptron",
           "InputConversionError", "losses", "get_include", "__version__"]


def get_include():
    """Directory to add to Cython's include path to cimport sklloss's kernels.

    The installed package ships its ``.pxd`` files, so
    ``from sklloss.losses._kernels cimport loss_hinge`` works once this directory
    (the one that contains the ``sklloss`` package) is on the include path.

    Returns
    -------
    path : str
        The directory that contains the installed ``sklloss`` package.

    Examples
    --------
    In a ``setup.py`` that builds a ``.pyx`` which cimports sklloss's kernels:
    ``cythonize(extensions, include_path=[sklloss.get_include()])``.

    >>> import os
    >>> import sklloss
    >>> os.path.isfile(os.path.join(sklloss.get_include(), "sklloss", "losses",
    ...                             "_kernels.pxd"))
    True
    """
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
