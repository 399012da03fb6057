"""Loss functions with compiled value and derivative kernels.

Each loss object computes per-sample losses, per-sample derivatives with respect to
the raw prediction, or both in one pass, in float32 or float64, with the GIL released
and optionally on several threads. The per-sample conventions are those of
scikit-learn's SGD estimators; ``get_loss`` maps their loss names to these classes.

Each loss class describes its loss once (kernel code and parameter record, link,
valid targets, outputs, probabilities); the links and intervals are those of
``sklloss.losses._link``, exported here.
"""
from ._loss import (
    AbsoluteError,
    BaseLoss,
    Gamma,
    Poisson,
    Quantile,
    Tweedie,
    EpsilonInsensitive,
    Hinge,
    Huber,
    LogLoss,
    ModifiedHuber,
    MultinomialLogLoss,
    Perceptron,
    SquaredEpsilonInsensitive,
    SquaredError,
    SquaredHinge,
    LOSSES,
    get_loss,
)
from ._link import (
    BaseLink,
    ClippedLinearLink,
    IdentityLink,
    Interval,
    LogitLink,
    LogLink,
    SoftmaxLink,
)

__all__ = [
    "AbsoluteError",
    "BaseLoss",
    "Gamma",
    "Poisson",
    "Quantile",
    "Tweedie",
    "EpsilonInsensitive",
    "Hinge",
    "Huber",
    "LogLoss",
    "ModifiedHuber",
    "MultinomialLogLoss",
    "Perceptron",
    "SquaredEpsilonInsensitive",
    "SquaredError",
    "SquaredHinge",
    "LOSSES",
    "get_loss",
    "BaseLink",
    "ClippedLinearLink",
    "IdentityLink",
    "Interval",
    "LogitLink",
    "LogLink",
    "SoftmaxLink",
]
