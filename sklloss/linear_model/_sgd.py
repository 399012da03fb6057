"""SGDClassifier and SGDRegressor: drop-in replacements for scikit-learn's."""
from numbers import Integral

import numpy as np
from sklearn.base import RegressorMixin, _fit_context
from sklearn.linear_model._base import LinearClassifierMixin
from sklearn.metrics import d2_tweedie_score, r2_score
from sklearn.utils import assert_all_finite, check_random_state, compute_class_weight
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import _check_partial_fit_first_call, check_classification_targets
from joblib import cpu_count
from scipy.special import log_softmax
from sklearn.utils.validation import check_is_fitted, validate_data

from ..losses import BaseLoss, LogitLink, LogLink, SoftmaxLink
from ._sgd_base import (
    CLASSIFICATION_LOSSES,
    DEFAULT_EPSILON,
    MAX_INT,
    REGRESSION_LOSSES,
    SKLEARN_CLASSIFICATION_LOSSES,
    SKLEARN_REGRESSION_LOSSES,
    _BaseSGD,
    converting,
    integer_seed_shuffle_seed,
    is_integer_seed,
    is_plain_target,
    loss_table,
    ovr_shuffle_seed,
    regression_shuffle_seed,
)


# the regressor's (unused) per-output label and class weights
_ZERO = np.zeros(1)
_ONE = np.ones(1)

LABEL_PROBLEM = "the labels in y (or classes) could not be compared: mixed or unorderable types"


class SGDClassifier(LinearClassifierMixin, _BaseSGD):
    """Linear classifiers (SVM, logistic regression, ...) trained by SGD.

    A drop-in replacement for :class:`sklearn.linear_model.SGDClassifier`: the same
    parameters, defaults, attributes and methods, trained by sklloss's compiled engine.
    Multi-class problems are one-vs-rest, fitted in one pass over the rows per epoch
    for all classes at once (scikit-learn makes one pass per class); or, with
    ``loss='multinomial_log_loss'``, one softmax model trained on all classes jointly.

    Parameters
    ----------
    loss : str or sklloss.losses loss object, default='hinge'
        'hinge', 'log_loss', 'modified_huber', 'squared_hinge', 'perceptron', or a
        regression loss ('squared_error', 'huber', 'epsilon_insensitive',
        'squared_epsilon_insensitive') applied to targets in {-1, +1}: one-vs-rest.
        'multinomial_log_loss' (not in scikit-learn's SGD) trains one multinomial
        logistic regression: at each row, the K raw predictions go through the
        softmax, and the categorical cross-entropy's gradient updates all K weight
        vectors together; it minimises the mean of log(sum_k exp(p_k)) - p_y plus
        the penalty of all K vectors. ``predict_proba`` is the softmax. With two
        classes, the model is stored as one row like scikit-learn's binary models (the
        difference of the two softmax outputs). A loss object such as
        ``sklloss.losses.Hinge()``, ``sklloss.losses.MultinomialLogLoss()`` or
        ``sklloss.losses.Huber(epsilon=1.0)`` is accepted too (its own ``epsilon``
        then replaces the ``epsilon`` parameter), so that a ``GridSearchCV`` can sweep
        over loss objects.
    penalty : {'l2', 'l1', 'elasticnet', None}, default='l2'
        The regularization term.
    alpha : float, default=0.0001
        Regularization strength; also sets the 'optimal' learning rate.
    l1_ratio : float in [0, 1], default=0.15
        Elastic-net mixing (used only with penalty='elasticnet').
    fit_intercept : bool, default=True
        Whether to fit an intercept.
    max_iter : int, default=1000
        Maximum number of epochs (passes over the training data).
    tol : float or None, default=1e-3
        Stop when the training objective (or, with early stopping, the validation
        score) has not improved by ``tol`` for ``n_iter_no_change`` epochs.
    shuffle : bool, default=True
        Whether to shuffle the rows before each epoch.
    verbose : int, default=0
        Print one line per epoch (norm, bias, T, average loss) when > 0.
    epsilon : float, default=0.1
        Epsilon of 'huber', 'epsilon_insensitive' and 'squared_epsilon_insensitive'.
    n_jobs : int, default=None
        Threads for the fit; the result does not depend on it. ``None`` means 1, -1
        all processors. One-vs-rest classes are split over the threads. A single
        output (a binary problem) or a multinomial model (whose classes depend on each
        other at every row) is trained by one thread while a second gathers the
        shuffled rows ahead of it into contiguous blocks, for X of 16 MB or more
        (smaller X stays in the cache, and fits in one thread).
    random_state : int, RandomState instance or None, default=None
        Seeds the shuffling and the early-stopping split.
    learning_rate : {'constant', 'optimal', 'invscaling', 'adaptive', 'pa1', 'pa2', \
            'adagrad', 'normalized_adagrad'}, default='optimal'
        The step size schedule: eta0; 1 / (alpha (t0 + t)); eta0 / t^power_t; eta0
        divided by 5 whenever the objective stalls; the passive-aggressive steps;
        and sklloss's per-coordinate steps:

        - 'adagrad': AdaGrad (Duchi, Hazan and Singer, JMLR 2011), each weight its
          own step eta / sqrt(G_j), with eta = 10 * eta0 (0.1 at the default) and
          G_j the sum of its squared gradients so far. With g the loss's derivative
          at the row's raw prediction and c the row's (sample times class) weight:
          ``G_j += (c g x_j)**2``, ``w_j = prox(w_j - eta c g x_j / sqrt(G_j))``,
          where prox is the penalty's proximal step at the coordinate's step (its
          composite mirror descent form): ``prox(w) = sign(w) max(|w| - l1 step, 0)
          / (1 + l2 step)`` with ``step = eta / sqrt(G_j)``, ``l1 = alpha l1_ratio``,
          ``l2 = alpha (1 - l1_ratio)``. The intercept is a coordinate with x = 1,
          unpenalised (scikit-learn's 0.01 intercept decay for sparse X does not
          apply). A sparse row updates its own coordinates only: the penalty steps
          of the rows a coordinate sat out (and of rows with a zero gradient) are
          taken as one, ``prox`` with k times l1 and l2 for k rows, with its next
          update (before its gradient step) and at the end of each epoch; the rows
          in between read the weight as it was stored.
        - 'normalized_adagrad': the same on the normalised features x_j / s_j, s_j
          the largest ``|x_j|`` seen so far, with the base step eta sqrt(T / N), eta =
          50 * eta0 (0.5 at the default: Vowpal Wabbit's default learning rate), T
          the rows' summed weight and N their summed weight times ``||x / s||^2`` (the
          intercept's 1 included): the NAG algorithm of Ross, Mineiro and Langford
          ("Normalized online learning", UAI 2013), Vowpal Wabbit's default update.
          The penalty is on the normalised weights w_j s_j, so the fitted model
          does not change when a feature is rescaled (the objective is that of a
          MaxAbsScaler followed by this model): unscaled data needs no scaler.

        Their accumulators (G, s, T, N) are fitted state: ``partial_fit`` and
        ``warm_start`` continue them, and they are pickled with the model.
    eta0 : float, default=0.01
        Initial learning rate (the aggressiveness C for 'pa1' / 'pa2'; for the
        per-coordinate schedules, the base step's scale, as above).
    power_t : float, default=0.5
        Exponent of the 'invscaling' schedule.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the data (stratified) and stop when the
        validation accuracy stalls: each one-vs-rest class on its own binary accuracy,
        as in scikit-learn; a multinomial model on its accuracy.
    validation_fraction : float in (0, 1), default=0.1
        Fraction of the training data held out for early stopping.
    n_iter_no_change : int, default=5
        Epochs without improvement before stopping.
    class_weight : dict, 'balanced' or None, default=None
        Weights of the classes, multiplied with the sample weights.
    warm_start : bool, default=False
        Start ``fit`` from the previous solution.
    average : bool or int, default=False
        Averaged SGD: True averages over all updates, an int starts averaging once
        that many samples have been seen.

    Attributes
    ----------
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
    intercept_ : ndarray of shape (1,) or (n_classes,)
    n_iter_ : int
        Epochs run (the largest over the one-vs-rest classes).
    t_ : float
        Number of weight updates performed during training (+1), as in scikit-learn.
    classes_ : ndarray of shape (n_classes,)
    loss_function_ : str
        The loss's name.
    loss_curve_ : list of float
        The training objective of each epoch, as in scikit-learn's MLP: the mean over
        the epoch's rows of the loss at the weights the row met, plus the penalty
        (per row at the weights it met; under the per-coordinate schedules 'adagrad'
        and 'normalized_adagrad', that of the epoch's final weights). It is what
        ``tol`` watches and costs no pass over the data. One-vs-rest sums its
        classes' objectives, a class that has stopped keeping its last one. ``fit``
        starts it afresh (``len(loss_curve_) == n_iter_``); ``partial_fit`` appends one
        value per call.
    best_loss_ : float or None
        The minimum of ``loss_curve_``; None with early stopping.
    validation_scores_ : list of float or None
        With early stopping, the accuracy of the model on the held-out rows after
        each epoch; otherwise None.
    best_validation_score_ : float or None
        The maximum of ``validation_scores_``; None without early stopping.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Defined when X has feature names that are all strings.

    See Also
    --------
    sklearn.linear_model.SGDClassifier : the estimator this one replaces.
    SGDRegressor : linear regression by SGD.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklloss import SGDClassifier
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> clf = make_pipeline(StandardScaler(), SGDClassifier(random_state=0)).fit(X, y)
    >>> round(clf.score(X, y), 2) > 0.95
    True
    """

    _parameter_constraints: dict = {
        **_BaseSGD._parameter_constraints,
        "loss": [StrOptions(set(CLASSIFICATION_LOSSES)), BaseLoss],
        "n_jobs": [Integral, None],
        "class_weight": [StrOptions({"balanced"}), dict, None],
    }
    _allowed_losses = CLASSIFICATION_LOSSES
    _is_classifier = True
    # scikit-learn's table, of scikit-learn's losses: code that reads it (e.g. to
    # loop over the losses that have predict_proba) sees what it expects
    loss_functions = loss_table(SKLEARN_CLASSIFICATION_LOSSES)

    def __init__(
        self,
        loss="hinge",
        *,
        penalty="l2",
        alpha=0.0001,
        l1_ratio=0.15,
        fit_intercept=True,
        max_iter=1000,
        tol=1e-3,
        shuffle=True,
        verbose=0,
        epsilon=DEFAULT_EPSILON,
        n_jobs=None,
        random_state=None,
        learning_rate="optimal",
        eta0=0.01,
        power_t=0.5,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=5,
        class_weight=None,
        warm_start=False,
        average=False,
    ):
        self.loss = loss
        self.penalty = penalty
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.shuffle = shuffle
        self.verbose = verbose
        self.epsilon = epsilon
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.learning_rate = learning_rate
        self.eta0 = eta0
        self.power_t = power_t
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.class_weight = class_weight
        self.warm_start = warm_start
        self.average = average

    # -- fitting ---------------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, coef_init=None, intercept_init=None, sample_weight=None):
        """Fit the linear model by stochastic gradient descent.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,)
            Target labels.
        coef_init : ndarray of shape (n_classes, n_features), default=None
            Initial coefficients (warm start).
        intercept_init : ndarray of shape (n_classes,), default=None
            Initial intercept (warm start).
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples, multiplied with ``class_weight``.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return self._transaction(self._fit, X, y, coef_init, intercept_init, sample_weight)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Perform one epoch of stochastic gradient descent on the given samples.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            A chunk of the training data.
        y : array-like of shape (n_samples,)
            Its labels.
        classes : array-like of shape (n_classes,), default=None
            All the classes across calls; required on the first call.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples.

        Returns
        -------
        self : object
            The updated estimator.
        """
        return self._transaction(self._partial_fit_checked, X, y, classes, sample_weight)

    def _fit(self, X, y, coef_init, intercept_init, sample_weight):
        self._more_validate_params()
        warm, coef_init, intercept_init = self._warm_start_inits(coef_init, intercept_init)
        if hasattr(self, "classes_"):
            del self.classes_
        codes = None
        if is_plain_target(y, None, classification=True):
            # what validate_data returns as it is; each row's class number at once
            y_checked = y
            classes = np.unique(y)
            codes = np.searchsorted(classes, y)
        else:
            with converting(LABEL_PROBLEM):
                y_checked = validate_data(self, y=y)
                classes = np.unique(y_checked)
        self._fit_one_call(X, y_checked, classes, sample_weight, coef_init,
                           intercept_init, max_iter=self.max_iter, reset=True,
                           y_checked=True, codes=codes, warm=warm)
        return self._end_fit()

    def _partial_fit_checked(self, X, y, classes, sample_weight):
        first_call = not hasattr(self, "classes_")
        if first_call:
            self._more_validate_params(for_partial_fit=True)
            if self.class_weight == "balanced":
                raise ValueError(
                    "class_weight '{0}' is not supported for "
                    "partial_fit. In order to use 'balanced' weights,"
                    " use compute_class_weight('{0}', "
                    "classes=classes, y=y). "
                    "In place of y you can use a large enough sample "
                    "of the full training set target to properly "
                    "estimate the class frequency distributions. "
                    "Pass the resulting weights as the class_weight "
                    "parameter.".format(self.class_weight)
                )
        return self._fit_one_call(X, y, classes, sample_weight, None, None, max_iter=1,
                                  reset=first_call)

    def _fit_one_call(self, X, y, classes, sample_weight, coef_init, intercept_init,
                      max_iter, reset, y_checked=False, codes=None, warm=False):
        X, y, plain = self._validate_X_y(X, y, reset=reset, y_checked=y_checked)
        if codes is None:
            # (`plain` says y passed is_plain_target, unless y_checked: then it speaks
            # of X only; when X was not plain, y may still be)
            codes = self._class_numbers(
                y, classes, (plain and not y_checked)
                or is_plain_target(y, None, classification=True))
        else:  # (fit, plain labels: `classes` is what unique_labels would make of it)
            self.classes_ = classes
            _check_n_classes(classes)
        n_classes = self.classes_.shape[0]
        codes = codes.astype(X.dtype)  # the engine's labels (class numbers as floats)
        plan = self._plan(classes=self.classes_)
        if self.class_weight == "balanced":  # (depends on y: computed per call)
            labels = self._label_arrays(y)
        else:
            labels = plan.values.get("labels")
            if labels is None:
                labels = plan.values["labels"] = self._label_arrays(y)
        class_weight, n_outputs, multinomial, pos_label, weight_pos, weight_neg = labels
        sample_weight = self._sample_weight(sample_weight, X)
        # (a different feature count was refused by validate_data above)
        continuing = not reset and getattr(self, "coef_", None) is not None
        model = self._continue_or_start(continuing, n_outputs, X.shape[1], X.dtype,
                                        coef_init, intercept_init)
        if multinomial and n_classes == 2:
            # a binary softmax model is stored as scikit-learn stores binary models, one
            # row: the difference of the two outputs, which is all the softmax depends
            # on. It trains as the pair (-row / 2, +row / 2): both outputs' gradients
            # are opposite, so they stay opposite.
            model = [np.concatenate([-part / 2, part / 2]) for part in model]
        coef, intercept, average_coef, average_intercept = model
        # the split and the shuffle seed, drawn in scikit-learn's order: the same
        # random_state gives the same validation rows and the same row order
        one_order = n_classes == 2 or multinomial
        if is_integer_seed(self.random_state):
            # (the split draws from its own generator: the order does not matter)
            validation_mask = self._validation_split(codes, sample_weight)
            seed = integer_seed_shuffle_seed(self.random_state,
                                             "binary" if one_order else "ovr", n_classes)
        elif one_order:
            random_state = check_random_state(self.random_state)
            random_state.randint(1, np.iinfo(np.int32).max)  # scikit-learn's dataset seed
            validation_mask = self._validation_split(codes, sample_weight)
            seed = int(random_state.randint(MAX_INT))
        else:
            random_state = check_random_state(self.random_state)
            validation_mask = self._validation_split(codes, sample_weight)
            seed = ovr_shuffle_seed(random_state, n_classes)
        validation_score = None
        if self.early_stopping:
            validation_score = _ValidationAccuracy(
                X[validation_mask], codes[validation_mask], sample_weight[validation_mask],
                pos_label, multinomial)
        t = getattr(self, "t_", 1.0) if not reset else 1.0
        n_threads = _n_threads(self.n_jobs)
        result = self._run_engine(
            plan, X, codes, sample_weight, coef=coef, intercept=intercept,
            average_coef=average_coef, average_intercept=average_intercept,
            pos_label=pos_label, weight_pos=weight_pos, weight_neg=weight_neg,
            validation_mask=validation_mask, validation_score=validation_score,
            seed=seed, max_iter=max_iter, t=t, n_threads=n_threads,
            keep_step_state=continuing or warm)
        if multinomial and n_classes == 2:
            coef, intercept, average_coef, average_intercept = (
                part[1:] - part[:1] for part in model)
        self._expanded_class_weight = class_weight
        self.loss_function_ = plan.loss.name
        self._commit(result, coef, intercept, average_coef, average_intercept,
                     X.shape[0], t, X.dtype, (n_outputs, X.shape[1]), validation_score,
                     reset)
        return self

    def _class_numbers(self, y, classes, plain_labels):
        """Each row's class number in ``classes_`` (set on the first call from
        `classes`), after scikit-learn's label checks (plain_labels: y passed
        is_plain_target); a label outside the classes is an error."""
        classes_ = self.__dict__.get("classes_")
        if not (plain_labels and classes_ is not None and classes_.dtype.kind in "biuf"
                and (classes is None or _equal_labels(classes, classes_))):
            # (plain numeric labels of known numeric classes pass these unchanged)
            with converting(LABEL_PROBLEM):
                check_classification_targets(y)
                _check_partial_fit_first_call(self, classes)
            classes_ = self.classes_
        n_classes = _check_n_classes(classes_)
        codes = np.searchsorted(classes_, y)
        codes[codes == n_classes] = 0
        unknown = classes_[codes] != y
        if np.any(unknown):
            raise ValueError(
                "y contains labels not in classes %r: %r. Pass every label of the "
                "training data in `classes` on the first call to partial_fit."
                % (classes_.tolist(), np.unique(y[unknown])[:5].tolist()))
        return codes

    def _label_arrays(self, y):
        """(class weights, n_outputs, multinomial, pos_label, weight_pos, weight_neg):
        what the engine needs of the classes and class_weight."""
        n_classes = self.classes_.shape[0]
        if self.class_weight is None:
            class_weight = np.ones(n_classes, dtype=np.float64)  # (compute_class_weight's)
        else:
            class_weight = compute_class_weight(self.class_weight, classes=self.classes_,
                                                y=y)
        if not np.all(np.isfinite(class_weight) & (class_weight >= 0)):
            raise ValueError(
                "class_weight must be finite and non-negative (a negative weight would "
                "make SGD maximise that class's loss); got %r." % (self.class_weight,))
        n_outputs = 1 if n_classes == 2 else n_classes
        multinomial = self._loss_class().is_multiclass
        if n_classes == 2 and not multinomial:
            pos_label = np.array([1.0])
            weight_pos, weight_neg = class_weight[1:2], class_weight[0:1]
        else:
            # one output per class (a softmax model reads only the class weights)
            pos_label = np.arange(n_classes, dtype=np.float64)
            weight_pos, weight_neg = class_weight, np.ones(n_classes)
        return (class_weight, n_outputs, multinomial,
                *(np.ascontiguousarray(a, dtype=np.float64)
                  for a in (pos_label, weight_pos, weight_neg)))

    def predict(self, X):
        """Predict the class of each sample.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
            The class of the largest score (two classes: ``classes_[1]`` where the
            decision function is positive).
        """
        # scikit-learn's LinearClassifierMixin.predict, on the fast path's scores
        scores = self._decision_scores(X)
        if scores.shape[1] == 1:
            indices = (scores[:, 0] > 0).astype(np.intp)
        else:
            indices = scores.argmax(axis=1)
        return self.classes_.take(indices, axis=0)

    def decision_function(self, X):
        """Signed distances to the hyperplanes (confidence scores).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_classes)
            For two classes, the score of ``classes_[1]``; otherwise one per class.
        """
        scores = self._decision_scores(X)
        return scores.ravel() if scores.shape[1] == 1 else scores

    # -- probabilities ---------------------------------------------------------------
    def _check_proba(self):
        # (the loss's description says; an unknown loss has no probabilities either)
        cls = self._loss_class()
        if cls is None or not cls.link.gives_probabilities:
            raise AttributeError(
                "probability estimates are not available for loss=%r" % self.loss)
        return True

    @available_if(_check_proba)
    def predict_proba(self, X):
        """Probability estimates (log_loss, multinomial_log_loss and modified_huber).

        Binary log loss gives the logistic sigmoid of the decision function; for
        several classes the one-vs-rest estimates are normalised (Zadrozny and Elkan,
        2002). The multinomial loss gives the softmax of the decision function (the
        sigmoid for two classes). Modified Huber gives (clip(decision, -1, 1) + 1) / 2,
        normalised.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Probabilities of the classes, in the order of ``classes_``.
        """
        check_is_fitted(self)
        link = self._loss_class().link  # (a link that gives probabilities)
        if isinstance(link, SoftmaxLink):  # one multi-class model
            scores = self._softmax_scores(X)
            return link.inverse(scores, out=scores)
        if isinstance(link, LogitLink):  # one-vs-rest: scikit-learn's normalisation
            return self._predict_proba_lr(X)
        # modified Huber's clipped link, one-vs-rest (rows with every class at 0 get
        # uniform probabilities)
        scores = self.decision_function(X)
        binary = len(self.classes_) == 2
        if binary:
            prob2 = np.ones((scores.shape[0], 2))
            prob = prob2[:, 1]
            prob[:] = link.inverse(np.asarray(scores, dtype=np.float64))
        else:
            prob = link.inverse(scores)
        if binary:
            prob2[:, 0] -= prob
            return prob2
        # all classes at -1 would normalise to 0/0: give those rows uniform probabilities
        prob_sum = prob.sum(axis=1)
        all_zero = prob_sum == 0
        if np.any(all_zero):
            prob[all_zero, :] = 1
            prob_sum[all_zero] = len(self.classes_)
        prob /= prob_sum.reshape((prob.shape[0], -1))
        return prob

    @available_if(_check_proba)
    def predict_log_proba(self, X):
        """Log of the probability estimates (log_loss, multinomial_log_loss and
        modified_huber).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        if isinstance(self._loss_class().link, SoftmaxLink):
            # log-softmax, finite where the probability underflows to 0
            return log_softmax(self._softmax_scores(X), axis=1)
        return np.log(self.predict_proba(X))

    def _softmax_scores(self, X):
        """The multinomial model's K scores (two classes: (0, decision))."""
        scores = self._decision_scores(X)
        if scores.shape[1] == 1:
            scores = np.hstack([np.zeros_like(scores), scores])
        return scores


class SGDRegressor(RegressorMixin, _BaseSGD):
    """Linear regression trained by SGD.

    A drop-in replacement for :class:`sklearn.linear_model.SGDRegressor`: the same
    parameters, defaults, attributes and methods, trained by sklloss's compiled engine.

    Parameters
    ----------
    loss : str or sklloss.losses loss object, default='squared_error'
        'squared_error', 'huber', 'epsilon_insensitive', 'squared_epsilon_insensitive'
        (scikit-learn's); 'poisson', 'gamma', 'tweedie' (log link: ``predict`` gives
        ``exp`` of the linear model, ``score`` is D² of the deviance) and 'quantile',
        'absolute_error' (sklloss's); or a regression loss object such as
        ``sklloss.losses.Huber(epsilon=1.35)`` (its ``epsilon`` then replaces the
        ``epsilon`` parameter), ``Tweedie(power=1.2)`` or ``Quantile(quantile=0.9)``
        (the names give ``power=1.5`` and ``quantile=0.5``). Targets outside the loss's
        domain (y < 0 for 'poisson', y <= 0 for 'gamma') are a ValueError.
    penalty : {'l2', 'l1', 'elasticnet', None}, default='l2'
    alpha : float, default=0.0001
    l1_ratio : float in [0, 1], default=0.15
    fit_intercept : bool, default=True
    max_iter : int, default=1000
    tol : float or None, default=1e-3
    shuffle : bool, default=True
    verbose : int, default=0
    epsilon : float, default=0.1
    random_state : int, RandomState instance or None, default=None
    learning_rate : {'constant', 'optimal', 'invscaling', 'adaptive', 'pa1', 'pa2', \
            'adagrad', 'normalized_adagrad'}, default='invscaling'
    eta0 : float, default=0.01
    power_t : float, default=0.25
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the data and stop when the validation R²
        stalls.
    validation_fraction : float in (0, 1), default=0.1
    n_iter_no_change : int, default=5
    warm_start : bool, default=False
    average : bool or int, default=False
    n_jobs : int, default=None
        The meaning of each is that of :class:`SGDClassifier`'s parameter. (``n_jobs``
        is sklloss's: scikit-learn's SGDRegressor has none. With 2 or more, a second
        thread gathers the shuffled rows ahead of the fit's, for X of 16 MB or more.)

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
    intercept_ : ndarray of shape (1,)
    n_iter_ : int
    t_ : float
    loss_curve_ : list of float
        The training objective of each epoch (see :class:`SGDClassifier`).
    best_loss_ : float or None
    validation_scores_ : list of float or None
        With early stopping, ``score`` of the model on the held-out rows after each
        epoch (R², or D² for the log-link losses).
    best_validation_score_ : float or None
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (``n_features_in_``,)

    See Also
    --------
    sklearn.linear_model.SGDRegressor : the estimator this one replaces.
    sklearn.linear_model.PoissonRegressor, GammaRegressor, TweedieRegressor,
        QuantileRegressor : the exact solvers of the models of the losses
        'poisson', 'gamma', 'tweedie' and 'quantile' (same objective at the same
        ``alpha`` with ``penalty='l2'``, or ``penalty='l1'`` for the quantile loss).
    SGDClassifier : linear classification by SGD.

    Notes
    -----
    The losses scikit-learn's SGD lacks ('poisson', 'gamma', 'tweedie', 'quantile',
    'absolute_error') follow three rules, the same in ``fit`` and in the first
    ``partial_fit`` call, from the rows that call trains on:

    - the intercept starts at the best constant model (``loss.fit_intercept_only``:
      the log of the weighted mean of y, or its weighted quantile);
    - under a log link the learning rate is divided by the loss's mean curvature at
      that model, ``mean(y) ** (2 - power)`` (Poisson: ``mean(y)``, Gamma: 1), so that
      a fit does not depend on the unit of y (later ``partial_fit`` calls keep the
      first factor measured; targets of mean 0, a chunk of zero counts, measure
      none and leave it to the next call, and start the intercept at the log of
      half an event over the rows' total weight);
    - under a log link no step changes its row's raw prediction by more than 1
      (a factor e in the predicted mean): the derivative grows like ``exp(raw)``,
      and one unbounded step could make the next one overflow.

    For these losses the default 'invscaling', 'adaptive' and the per-coordinate
    schedules converge well; 'optimal' (``1 / (alpha t)``, with scikit-learn's
    start for classification margins) takes far more epochs at small ``alpha``.

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklloss import SGDRegressor
    >>> X, y = load_diabetes(return_X_y=True)
    >>> reg = make_pipeline(StandardScaler(), SGDRegressor(random_state=0)).fit(X, y)
    >>> round(reg.score(X, y), 1)
    0.5
    """

    _parameter_constraints: dict = {
        **_BaseSGD._parameter_constraints,
        "loss": [StrOptions(set(REGRESSION_LOSSES)), BaseLoss],
        "n_jobs": [Integral, None],
    }
    _allowed_losses = REGRESSION_LOSSES
    _is_classifier = False
    loss_functions = loss_table(SKLEARN_REGRESSION_LOSSES)

    def __init__(
        self,
        loss="squared_error",
        *,
        penalty="l2",
        alpha=0.0001,
        l1_ratio=0.15,
        fit_intercept=True,
        max_iter=1000,
        tol=1e-3,
        shuffle=True,
        verbose=0,
        epsilon=DEFAULT_EPSILON,
        random_state=None,
        learning_rate="invscaling",
        eta0=0.01,
        power_t=0.25,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=5,
        warm_start=False,
        average=False,
        n_jobs=None,
    ):
        self.loss = loss
        self.penalty = penalty
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.shuffle = shuffle
        self.verbose = verbose
        self.epsilon = epsilon
        self.random_state = random_state
        self.learning_rate = learning_rate
        self.eta0 = eta0
        self.power_t = power_t
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.warm_start = warm_start
        self.average = average
        self.n_jobs = n_jobs

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, coef_init=None, intercept_init=None, sample_weight=None):
        """Fit the linear model by stochastic gradient descent.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,)
            Target values.
        coef_init : ndarray of shape (n_features,), default=None
            Initial coefficients (warm start).
        intercept_init : ndarray of shape (1,), default=None
            Initial intercept (warm start).
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return self._transaction(self._fit, X, y, coef_init, intercept_init, sample_weight)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        """Perform one epoch of stochastic gradient descent on the given samples.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            A chunk of the training data.
        y : array-like of shape (n_samples,)
            Its targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples.

        Returns
        -------
        self : object
            The updated estimator.
        """
        return self._transaction(self._partial_fit_checked, X, y, sample_weight)

    def _fit(self, X, y, coef_init, intercept_init, sample_weight):
        self._more_validate_params()
        warm, coef_init, intercept_init = self._warm_start_inits(coef_init, intercept_init)
        self._fit_one_call(X, y, sample_weight, coef_init, intercept_init,
                           max_iter=self.max_iter, reset=True, warm=warm)
        return self._end_fit()

    def _partial_fit_checked(self, X, y, sample_weight):
        first_call = getattr(self, "coef_", None) is None
        if first_call:
            self._more_validate_params(for_partial_fit=True)
        return self._fit_one_call(X, y, sample_weight, None, None, max_iter=1,
                                  reset=first_call)

    def _fit_one_call(self, X, y, sample_weight, coef_init, intercept_init, max_iter,
                      reset, warm=False):
        X, y, plain = self._validate_X_y(X, y, reset=reset)
        y = y.astype(X.dtype, copy=False)
        if not plain:
            # (an object y is converted after scikit-learn's finiteness check: None -> NaN)
            assert_all_finite(y, input_name="y")
        plan = self._plan()
        loss = plan.loss
        _check_targets(loss, y)
        unweighted = sample_weight is None
        sample_weight = self._sample_weight(sample_weight, X)
        continuing = not reset
        validation_mask = self._validation_split(y, sample_weight)
        # the losses scikit-learn's SGD lacks: the intercept starts at the best
        # constant, and the steps are scaled to the loss (the log-link losses': by
        # their curvature there), from the rows this call trains on; later partial_fit
        # calls keep the first scale measured (a call whose targets have none, such
        # as all-zero counts, leaves it to the next one)
        step_scale = None if reset else self.__dict__.get("_step_scale", 1.0)
        if step_scale is None:
            y_train, weight_train = y, None if unweighted else sample_weight
            if self.early_stopping:
                y_train = y[~validation_mask]
                weight_train = None if unweighted else sample_weight[~validation_mask]
            if weight_train is not None and not np.any(weight_train > 0):
                weight_train = None
            step_scale = loss.step_scale(y_train, weight_train)
            if (reset and loss.starts_at_best_constant and self.fit_intercept
                    and not warm and intercept_init is None):
                start = loss.fit_intercept_only(y_train, weight_train)
                if step_scale is None:
                    # no positive target: the best constant is a mean of 0 (clipped to
                    # ~1e-15, a log of -34); start at half an event over the rows'
                    # weight instead, a rate later rows can correct in a few steps
                    total = y_train.shape[0] if weight_train is None else weight_train.sum()
                    start = float(np.log(0.5 / total))
                intercept_init = np.array([start])
        coef, intercept, average_coef, average_intercept = self._continue_or_start(
            continuing, 1, X.shape[1], X.dtype, coef_init, intercept_init)
        # the shuffle seed, drawn as scikit-learn draws it (then its dataset's seed)
        seed = regression_shuffle_seed(self.random_state, then_dataset_seed=True)
        validation_score = None
        if self.early_stopping:
            validation_score = _ValidationScore(X[validation_mask], y[validation_mask],
                                                sample_weight[validation_mask], loss)
        t = 1.0 if reset else getattr(self, "t_", 1.0)
        result = self._run_engine(
            plan, X, y, sample_weight, coef=coef, intercept=intercept,
            average_coef=average_coef, average_intercept=average_intercept,
            pos_label=_ZERO, weight_pos=_ONE, weight_neg=_ONE,
            validation_mask=validation_mask, validation_score=validation_score,
            seed=seed, max_iter=max_iter, t=t, n_threads=_n_threads(self.n_jobs),
            keep_step_state=continuing or warm,
            step_scale=1.0 if step_scale is None else step_scale)
        self._commit(result, coef, intercept, average_coef, average_intercept,
                     X.shape[0], t, X.dtype, (X.shape[1],), validation_score, reset)
        self._step_scale = step_scale
        return self

    def predict(self, X):
        """Predict with the linear model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
            Predicted target values: the raw scores through the loss's link (the
            identity for the losses of scikit-learn's SGDRegressor).
        """
        scores = self._decision_scores(X).ravel()
        cls = self._loss_class()
        return scores if cls is None else cls.link.inverse(scores)

    def score(self, X, y, sample_weight=None):
        """The model's score on (X, y): what scikit-learn's estimator for the same
        model returns.

        For the log-link losses ('poisson', 'gamma', 'tweedie') D², the share of the
        deviance explained (``d2_tweedie_score`` with the loss's power, as
        ``PoissonRegressor.score``, ``GammaRegressor.score`` and
        ``TweedieRegressor.score``); for every other loss R² (``r2_score``, as
        scikit-learn's ``SGDRegressor`` and ``QuantileRegressor``).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            True targets.
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        score : float
            1 for a perfect fit; 0 for the best constant (less: worse than it).
        """
        check_is_fitted(self)
        power = _deviance_power(self._loss_object())
        if power is None:
            return super().score(X, y, sample_weight=sample_weight)
        return d2_tweedie_score(y, self.predict(X), sample_weight=sample_weight,
                                power=power)

    def _loss_object(self):
        """``self.loss`` as a loss object, for what it is (its link, domain, power): a
        name gives its class with the defaults; None for a name that is no loss."""
        if isinstance(self.loss, BaseLoss):
            return self.loss
        cls = self._loss_class()
        return None if cls is None else cls()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        loss = self._loss_object()
        if loss is not None:
            # (scikit-learn's checks then give it positive targets, as its GLMs get)
            tags.target_tags.positive_only = bool(loss.interval_y_true.low >= 0)
        return tags


def _deviance_power(loss):
    """The Tweedie power of a log-link loss's deviance (its score is D² of it), or
    None for a loss scored by R²."""
    return loss._power if isinstance(loss.link, LogLink) else None


def _check_targets(loss, y):
    """Refuse targets outside the loss's interval (y >= 0 for a count loss, say)
    before any compiled code sees them."""
    interval = loss.interval_y_true
    if not interval.is_real_line:
        inside = interval.contains(y)
        if not inside.all():
            raise ValueError("loss=%r takes targets y in %s; got %r." % (
                loss.name, interval, np.unique(y[~inside])[:5].tolist()))


def _check_n_classes(classes):
    """The number of classes, at least two."""
    n_classes = classes.shape[0]
    if n_classes < 2:
        raise ValueError(
            "The number of classes has to be greater than one; got %d class" % n_classes)
    return n_classes


def _equal_labels(classes, classes_):
    """Whether `classes` holds just ``classes_`` (sorted, unique), so that scikit-learn's
    check that partial_fit's `classes` did not change would pass."""
    try:
        return bool(np.array_equal(np.asarray(classes), classes_))
    except Exception:  # noqa: BLE001 - not comparable: scikit-learn's check will say
        return False


def _n_threads(n_jobs):
    """The engine's threads for `n_jobs`: this machine's OpenMP threads, so None is one
    and -1 this machine's processors. (joblib's effective_n_jobs would read the active
    joblib backend: inside a GridSearchCV on the Dask backend it reports the whole
    cluster's cores, and every fit on a one-thread worker would start that many
    threads.) The engine uses at most one per output, or two for one output."""
    if n_jobs == 0:
        raise ValueError("n_jobs == 0 has no meaning: use None or 1 for one thread, -1 "
                         "for all processors.")
    if n_jobs is None:
        n_jobs = 1
    elif n_jobs < 0:
        n_jobs = max(cpu_count() + 1 + n_jobs, 1)
    return max(1, n_jobs)


class _ValidationAccuracy:
    """Early-stopping score of the classifier, called by the engine after each epoch.

    For one-vs-rest it returns each output's weighted binary accuracy on its stored
    vector v (the weights without their pending scale, as scikit-learn scores them,
    so that the fit stops at scikit-learn's epoch); a softmax model's outputs get its
    accuracy. ``model_scores`` records the accuracy of the whole model (true weights)
    per epoch: the estimator's ``validation_scores_``.
    """

    def __init__(self, X_val, codes_val, sample_weight_val, pos_label, multinomial):
        self.X_val = X_val
        self.codes_val = codes_val
        self.sample_weight_val = sample_weight_val
        self.is_positive = codes_val[:, None] == pos_label[None, :]
        self.multinomial = multinomial
        self.model_scores = []

    def __call__(self, v, intercept, wscale, active=None):
        K = v.shape[0]
        # one product for both: the stored vectors v and the true weights wscale * v
        both = np.concatenate([v, wscale[:, None] * v]) if not self.multinomial else \
            wscale[:, None] * v
        # in X's dtype: float32 X_val times a float64 model would be upcast, a copy
        both = both.astype(self.X_val.dtype, copy=False)
        decision = safe_sparse_dot(self.X_val, both.T, dense_output=True)
        decision += np.tile(intercept, both.shape[0] // K)
        true = decision[:, -K:]
        predicted = true[:, 0] > 0 if K == 1 else np.argmax(true, axis=1)
        self.model_scores.append(float(np.average(predicted == self.codes_val,
                                                  weights=self.sample_weight_val)))
        if self.multinomial:
            return np.full(K, self.model_scores[-1])
        correct = (decision[:, :K] > 0) == self.is_positive
        return np.average(correct, axis=0, weights=self.sample_weight_val)


class _ValidationScore:
    """Early-stopping score of the regressor, ``score``'s on the validation rows: D²
    of the deviance for a log-link loss, else weighted R²; of the stored vector v (as
    scikit-learn scores it) for the stopping rule, and of the true weights wscale * v
    in ``model_scores`` (``validation_scores_``).

    R² is computed as ``r2_score`` computes it (its sums, in the dtype it would pick,
    and its values 1 for a perfect fit and 0 for constant targets), without its input
    checks at every epoch; the targets' spread around their mean does not change
    between epochs, so it is computed once. Fewer than two rows: ``r2_score`` itself
    (which warns and gives NaN)."""

    def __init__(self, X_val, y_val, sample_weight_val, loss):
        self.X_val = X_val
        self.link = loss.link  # predictions are link.inverse(raw scores)
        self.power = _deviance_power(loss)
        self.model_scores = []
        self.y_val, self.sample_weight_val = y_val, sample_weight_val
        self._by_dtype = {}  # dtype -> (y, weight, denominator) in that dtype

    def _r2(self, prediction):
        if self.power is not None:
            return d2_tweedie_score(self.y_val, prediction,
                                    sample_weight=self.sample_weight_val, power=self.power)
        if self.y_val.shape[0] < 2:
            return r2_score(self.y_val, prediction, sample_weight=self.sample_weight_val)
        # (r2_score computes in the widest float dtype of its three inputs)
        dtype = np.result_type(self.y_val.dtype, prediction.dtype,
                               self.sample_weight_val.dtype, np.float32)
        if dtype not in self._by_dtype:
            y = self.y_val.astype(dtype)[:, None]
            weight = self.sample_weight_val.astype(dtype)[:, None]
            mean = np.average(y, axis=0, weights=weight[:, 0])
            self._by_dtype[dtype] = (y, weight, np.sum(weight * (y - mean) ** 2, axis=0)[0])
        y, weight, denominator = self._by_dtype[dtype]
        numerator = np.sum(weight * (y - prediction[:, None]) ** 2, axis=0)[0]
        if numerator == 0:
            return 1.0
        if denominator == 0:
            return 0.0
        return float(1 - numerator / denominator)

    def __call__(self, v, intercept, wscale, active=None):
        both = np.concatenate([v, wscale[:, None] * v]).astype(self.X_val.dtype, copy=False)
        prediction = self.link.inverse(
            safe_sparse_dot(self.X_val, both.T, dense_output=True) + intercept)
        stored, true = (self._r2(prediction[:, j]) for j in (0, 1))
        self.model_scores.append(float(true))
        return [stored]
