"""Perceptron: a drop-in replacement for scikit-learn's, on sklloss's SGD engine."""
from numbers import Real

from sklearn.utils._param_validation import Interval

from ._sgd import SGDClassifier
from ._sgd_base import DEFAULT_EPSILON

# SGDClassifier's parameters that Perceptron fixes (its loss and schedule), so does not
# take, as scikit-learn's Perceptron does not
_FIXED = {"loss": "perceptron", "learning_rate": "constant", "power_t": 0.5,
          "average": False, "epsilon": DEFAULT_EPSILON}


class Perceptron(SGDClassifier):
    """Linear perceptron classifier.

    A drop-in replacement for :class:`sklearn.linear_model.Perceptron`: the same
    parameters, defaults, attributes and methods, on sklloss's compiled engine.
    ``Perceptron()`` is ``SGDClassifier(loss="perceptron", eta0=1,
    learning_rate="constant", penalty=None)``, as in scikit-learn, so binary and
    regression-free fits follow scikit-learn's path (the same row order and updates
    from the same ``random_state``), and a multi-class problem trains all its
    one-vs-rest classes in one pass over the rows per epoch. What sklloss's
    SGDClassifier adds applies: float32 end to end, ``n_jobs`` for one output too,
    the learning curves ``loss_curve_`` and ``validation_scores_``, Ctrl-C that
    leaves the model as it was.

    Parameters
    ----------
    penalty : {'l2', 'l1', 'elasticnet', None}, default=None
        The regularization term.
    alpha : float, default=0.0001
        The penalty's strength.
    l1_ratio : float in [0, 1], default=0.15
        Elastic-net mixing (used only with penalty='elasticnet').
    fit_intercept : bool, default=True
        Whether to fit an intercept.
    max_iter : int, default=1000
        Maximum number of epochs (passes over the training data).
    tol : float or None, default=1e-3
        Stop when the training objective (or, with early stopping, the validation
        accuracy) has not improved by ``tol`` for ``n_iter_no_change`` epochs.
    shuffle : bool, default=True
        Whether to shuffle the rows before each epoch.
    verbose : int, default=0
        Print one line per epoch when > 0.
    eta0 : float, default=1.0
        The constant step size.
    n_jobs : int, default=None
        Threads for the fit; the result does not depend on it (see SGDClassifier).
    random_state : int, RandomState instance or None, default=0
        Seeds the shuffling and the early-stopping split.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the data and stop when the validation
        accuracy stalls.
    validation_fraction : float in (0, 1), default=0.1
        Fraction of the training data held out for early stopping.
    n_iter_no_change : int, default=5
        Epochs without improvement before stopping.
    class_weight : dict, 'balanced' or None, default=None
        Weights of the classes, multiplied with the sample weights.
    warm_start : bool, default=False
        Start ``fit`` from the previous solution.

    Attributes
    ----------
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
    intercept_ : ndarray of shape (1,) or (n_classes,)
    n_iter_ : int
        Epochs run (the largest over the one-vs-rest classes).
    t_ : float
        Number of weight updates performed during training (+1).
    classes_ : ndarray of shape (n_classes,)
    loss_function_ : str
        'perceptron'.
    loss_curve_, best_loss_, validation_scores_, best_validation_score_
        The learning curves, as SGDClassifier's.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Defined when X has feature names that are all strings.

    See Also
    --------
    sklearn.linear_model.Perceptron : the estimator this one replaces.
    SGDClassifier : the same engine with any classification loss.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklloss import Perceptron
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = Perceptron(tol=1e-3, random_state=0).fit(X, y)
    >>> round(clf.score(X, y), 2) > 0.9
    True
    """

    _parameter_constraints: dict = {
        name: constraint for name, constraint in SGDClassifier._parameter_constraints.items()
        if name not in _FIXED
    }
    _parameter_constraints["l1_ratio"] = [Interval(Real, 0, 1, closed="both")]

    def __init__(
        self,
        *,
        penalty=None,
        alpha=0.0001,
        l1_ratio=0.15,
        fit_intercept=True,
        max_iter=1000,
        tol=1e-3,
        shuffle=True,
        verbose=0,
        eta0=1.0,
        n_jobs=None,
        random_state=0,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=5,
        class_weight=None,
        warm_start=False,
    ):
        super().__init__(
            penalty=penalty,
            alpha=alpha,
            l1_ratio=l1_ratio,
            fit_intercept=fit_intercept,
            max_iter=max_iter,
            tol=tol,
            shuffle=shuffle,
            verbose=verbose,
            eta0=eta0,
            n_jobs=n_jobs,
            random_state=random_state,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change,
            class_weight=class_weight,
            warm_start=warm_start,
            **_FIXED,
        )
