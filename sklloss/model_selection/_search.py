"""GridSearchCV and RandomizedSearchCV that fit each fold's candidates together.

They are scikit-learn's classes, with one difference in how candidates are fitted.
When the estimator is one of sklloss's SGD estimators, or a Pipeline whose final step
is one, each fold's candidates are fitted before scikit-learn evaluates them: the
pipeline's earlier steps once per fold (and per setting of theirs that the candidates
vary), the candidates' SGD fits in shared passes over the fold's rows
(``sklloss.linear_model._together.fit_together``: each fit is the estimator's own, its
engine call joined with the others'); scikit-learn's evaluation then takes those
fitted models where it would fit its clones. Everything else is scikit-learn's own
code: the candidates, the splits, the scoring, ``cv_results_``, the ranking, the
refit, multi-metric scoring, ``error_score``, verbose output. A candidate fitted
together ends as its own fit would, bit for bit, so with an integer ``random_state``
the results equal scikit-learn's search over the same estimator.

How the evaluation takes the fitted models: during the search the estimator is seen
through `_Candidate`, which scikit-learn's code clones, sets and fits as it would the
estimator; and X through `_Rows`, a view of it whose training rows of a split come
marked with the split. A `_Candidate` fitted on a split's training rows with the
parameters of a candidate fitted together takes that fitted model; any other fit
(another split, the refit) is the estimator's own.
"""
import functools
import inspect
import threading
import time

import numpy as np
import scipy.sparse as sp
from joblib import effective_n_jobs, parallel_config
from sklearn import model_selection as _sk
from sklearn.base import clone
from sklearn.metrics._scorer import _PassthroughScorer
from sklearn.metrics import check_scoring
from sklearn.pipeline import Pipeline
from sklearn.utils import get_tags
from sklearn.utils._indexing import _safe_indexing
from sklearn.utils.validation import _check_method_params

from ..linear_model._sgd_base import MAX_INT, _BaseSGD
from ..linear_model._together import fit_together


def _final_step(estimator):
    """(name of the final step or None, the SGD estimator) when the search can fit
    the estimator's candidates together; None otherwise."""
    if isinstance(estimator, _BaseSGD):
        return None, estimator
    if (isinstance(estimator, Pipeline) and estimator.memory is None and estimator.steps
            and isinstance(estimator.steps[-1][1], _BaseSGD)):
        return estimator.steps[-1][0], estimator.steps[-1][1]
    return None


def _rows_of(X):
    """X as the search hands it to scikit-learn's: a view of it that marks its splits'
    training rows; None for an X of another kind (it is searched without fusion)."""
    if type(X) is np.ndarray and X.ndim == 2:
        return X.view(_Rows)
    if type(X) in (sp.csr_matrix, sp.csr_array):
        return _CSRRows((X.data, X.indices, X.indptr), shape=X.shape)
    return None


class _Marked:
    """What _Rows and _CSRRows share: indexed by a split's rows, they give them
    through the search's _Fusion (`subset`); any other subset is plain."""

    def _subset(self, key, take, plain):
        fusion = self.__dict__.get("fusion")
        rows = key[0] if isinstance(key, tuple) and len(key) == 2 and key[1] is Ellipsis \
            else key
        found = fusion.split_of(rows) if fusion is not None else None
        if found is None:
            return plain(take(key))
        return fusion.subset(*found, lambda: take(key), plain)


class _Deferred:
    """A split's training rows not taken yet: what scikit-learn's evaluation hands
    the candidate's fit when nothing else reads them (no training scores, no
    callbacks). A candidate fitted together never needs them; any other fit takes
    them (`rows()`). Taking them for every candidate would copy most of X once per
    candidate and split, as long as the fits themselves on large data."""

    def __init__(self, split, take):
        self.split = split
        self._take = take

    def rows(self):
        return self._take()


class _Rows(np.ndarray, _Marked):
    split = None
    fusion = None

    def __array_finalize__(self, obj):
        self.split = None
        self.fusion = None

    def __getitem__(self, key):
        return self._subset(key, super().__getitem__,
                            lambda subset: subset.view(np.ndarray)
                            if isinstance(subset, np.ndarray) else subset)


class _CSRRows(sp.csr_matrix, _Marked):
    split = None
    fusion = None

    def __getitem__(self, key):
        return self._subset(key, super().__getitem__,
                            lambda subset: sp.csr_matrix(subset) if sp.issparse(subset)
                            else subset)


def _plain(X):
    """X without the search's marks (the estimator's fast paths want the plain types)."""
    if isinstance(X, _Rows):
        return X.view(np.ndarray)
    if isinstance(X, _CSRRows):
        return sp.csr_matrix((X.data, X.indices, X.indptr), shape=X.shape)
    return X


def _read_only(X):
    for array in (X.data, X.indices, X.indptr) if sp.issparse(X) else (X,):
        array.setflags(write=False)
    return X


_PLAIN = (str, bytes, int, float, complex, bool, type(None), np.generic)


def _key(value):
    """A parameter value as a dictionary key that a clone of it shares: plain values
    themselves, anything else (estimators, loss objects, arrays) by its repr."""
    if isinstance(value, _PLAIN):
        return value
    if isinstance(value, tuple):
        return tuple(_key(v) for v in value)
    if isinstance(value, np.ndarray):  # (whose repr is cut short when long)
        return ("array", value.dtype.str, value.shape, value.tobytes())
    return ("repr", type(value).__name__, repr(value))


def _candidate_key(parameters):
    return tuple(sorted((name, _key(value)) for name, value in parameters.items()))


class _Fusion:
    """One search's fits together: the splits, and per (candidate, split) the model
    fitted together (or the exception its fit raised)."""

    def __init__(self, search, estimator, X, y, params, final_step):
        self.search = search
        self.estimator = estimator  # (the search's, not the _Candidate it sees)
        self.X = X  # (plain)
        self.y = y
        self.params = params
        self.final_step = final_step
        self.splits = []
        self.fitted = {}
        self.fit_time = 0.0
        self.test_rows = {}
        self.lock = threading.Lock()
        # (scikit-learn reads a split's training rows besides the fit only for the
        # training scores and for callbacks)
        self.defer_training_rows = not (search.return_train_score
                                        or getattr(search, "_skl_callbacks", None))

    def split_of(self, rows):
        """(the split whose training rows these are, the split whose test rows they
        are), each None if none; None if neither."""
        if not isinstance(rows, np.ndarray) or rows.ndim != 1:
            return None
        found = [None, None]
        for s, split in enumerate(self.splits):
            for i, part in enumerate(split):
                if (found[i] is None and part.shape == rows.shape
                        and np.array_equal(part, rows)):
                    found[i] = s
        return None if found == [None, None] else tuple(found)

    def subset(self, training, testing, take, plain):
        """A split's rows of X, as the evaluation indexes them (take: the marked
        subset, plain: without the marks). Training rows come marked with their
        split, deferred (_Deferred) when the search reads them only to fit; test
        rows are taken once per split: the SGD estimators only read them, so every
        candidate shares them (read-only), while a pipeline's candidate gets its own
        copy (its transforms may write to their input: StandardScaler(copy=False)).
        Rows that are a split's training rows and another's test rows (cv=2) come
        taken and marked: either can be asked."""
        if training is not None:
            if self.defer_training_rows and testing is None:
                return _Deferred(training, lambda: plain(take()))
            subset = take()
            subset.split = training
            return subset
        split = testing
        with self.lock:
            if split not in self.test_rows:
                self.test_rows[split] = _read_only(plain(take()))
            rows = self.test_rows[split]
        return rows if self.final_step is None else rows.copy()

    def take(self, parameters, X):
        """The model fitted together for these parameters on the rows X (a split's
        training rows), or None."""
        split = getattr(X, "split", None)
        if split is None:
            return None
        try:
            return self.fitted.get((_candidate_key(parameters), split))
        except Exception:  # noqa: BLE001 - a parameter that cannot be compared
            return None

    def evaluate(self, evaluate_candidates, candidate_params, cv=None, more_results=None,
                 **kwargs):
        """scikit-learn's evaluate_candidates, after fitting the candidates together
        on every split (for the search's own splits)."""
        candidates = list(candidate_params)
        if cv is None:
            start = time.time()
            self._fit_splits(candidates)
            self.fit_time += time.time() - start
        return evaluate_candidates(candidates, cv=cv, more_results=more_results, **kwargs)

    def _fit_splits(self, candidates):
        search = self.search
        routed = search._get_routed_params_for_fit(self.params)
        self.splits = [(np.asarray(train), np.asarray(test)) for train, test in
                       search._checked_cv_orig.split(self.X, self.y,
                                                     **routed.splitter.split)]
        fit_params = routed.estimator.fit
        n_threads = max(1, min(effective_n_jobs(search.n_jobs), effective_n_jobs(-1)))
        for s, (train, _) in enumerate(self.splits):
            X_train = _safe_indexing(self.X, train)
            y_train = None if self.y is None else _safe_indexing(self.y, train)
            params = _check_method_params(self.X, params=fit_params, indices=train)
            # (one random row order for the candidates that draw their own)
            seed = int(np.random.mtrand._rand.randint(MAX_INT))
            for key, fitted in self._fit_split(candidates, X_train, y_train, params,
                                               n_threads, seed):
                self.fitted[(key, s)] = fitted

    def _fit_split(self, candidates, X_train, y_train, params, n_threads, seed):
        """(candidate key, fitted model or exception) for the candidates of a split."""
        base = self.estimator
        final_step = self.final_step
        groups = {}
        for parameters in candidates:
            estimator = clone(base).set_params(**clone(parameters, safe=False))
            final = estimator if final_step is None else estimator.steps[-1][1]
            if not isinstance(final, _BaseSGD):
                continue  # (a candidate of another final step: scikit-learn fits it)
            if final.random_state is None:
                final.set_params(random_state=seed)
            prefix = {} if final_step is None else {
                name: value for name, value in parameters.items()
                if not name.startswith(final_step + "__") and name != final_step}
            groups.setdefault(_candidate_key(prefix), []).append(
                (_candidate_key(parameters), estimator, final))
        for members in groups.values():
            X_fit = X_train
            prefix = None
            if final_step is not None:
                pipeline = members[0][1]
                if params:  # (a pipeline's fit parameters: its own routing)
                    yield from ((key, None) for key, _, _ in members)
                    continue
                prefix = Pipeline(pipeline.steps[:-1]) if len(pipeline.steps) > 1 else None
                try:
                    if prefix is not None:
                        # (earlier steps may write to their input: StandardScaler(
                        # copy=False); with more groups, each gets the rows as they
                        # were. The SGD fits only read theirs.)
                        X_fit = prefix.fit_transform(
                            X_train.copy() if len(groups) > 1 else X_train, y_train)
                except Exception as error:  # noqa: BLE001 - every candidate's fit fails
                    yield from ((key, error) for key, _, _ in members)
                    continue
            outcomes = fit_together([final for _, _, final in members], X_fit, y_train,
                                    n_threads=n_threads, **params)
            for (key, estimator, final), outcome in zip(members, outcomes):
                if outcome is not None:
                    yield key, outcome
                else:
                    if final_step is not None:  # (the fold's fitted earlier steps)
                        estimator.steps = [*([] if prefix is None else prefix.steps),
                                           (final_step, final)]
                    yield key, estimator


class _Candidate:
    """The estimator as the search's evaluation sees it (see the module's doc)."""

    def __init__(self, estimator, fusion):
        self.__dict__.update(estimator=estimator, fusion=fusion, parameters={})

    def __sklearn_clone__(self):
        return _Candidate(clone(self.estimator), self.fusion)

    def __sklearn_tags__(self):
        return get_tags(self.estimator)

    def get_params(self, deep=True):
        return self.estimator.get_params(deep=deep)

    def set_params(self, **parameters):
        self.estimator.set_params(**parameters)
        self.__dict__["parameters"] = parameters
        return self

    def fit(self, X, y=None, **fit_params):
        fitted = self.fusion.take(self.parameters, X)
        if isinstance(fitted, BaseException):
            raise fitted
        if fitted is not None:
            self.__dict__["estimator"] = fitted
            return self
        if isinstance(X, _Deferred):
            X = X.rows()
        elif getattr(X, "split", None) is not None:
            X = X.copy()  # (the rows are the caller's to keep: a fit may write to X)
        self.estimator.fit(_plain(X), y, **fit_params)
        return self

    def __getattr__(self, name):
        attribute = getattr(self.__dict__["estimator"], name)
        if not callable(attribute):
            return attribute

        @functools.wraps(attribute)  # (scorers go by the method's name)
        def method(*args, **kwargs):
            return attribute(*(_plain(a) for a in args), **kwargs)
        return method

    def __repr__(self):
        return repr(self.estimator)


class _FusedSearch:
    """The fit of GridSearchCV / RandomizedSearchCV with the candidates of each fold
    fitted together (see the module's doc)."""

    def fit(self, X, y=None, **params):
        saved = dict(self.__dict__)  # (what a failed fit leaves)
        self.__dict__.pop("fused_fit_time_", None)  # (a previous fit's)
        plan = _final_step(self.estimator)
        rows = _rows_of(X) if plan is not None else None
        if rows is None:
            try:
                return super().fit(X, y, **params)
            except BaseException:
                if "fused_fit_time_" in saved:  # (the rest is scikit-learn's doing)
                    self.fused_fit_time_ = saved["fused_fit_time_"]
                raise
        estimator = self.estimator
        fusion = _Fusion(self, estimator, X, y, params, plan[0])
        rows.fusion = fusion
        try:
            self.__dict__["_fusion"] = fusion
            self.estimator = _Candidate(estimator, fusion)
            # (threads: the evaluation takes the models fitted here, in this process)
            with parallel_config(backend="threading"):
                super().fit(rows, y, **params)
            self.estimator = estimator
            if isinstance(getattr(self, "best_estimator_", None), _Candidate):
                self.best_estimator_ = self.best_estimator_.estimator
            if isinstance(self.scorer_, _PassthroughScorer):
                self.scorer_ = check_scoring(estimator)
            self.fused_fit_time_ = fusion.fit_time
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(saved)
            raise
        finally:
            self.__dict__.pop("_fusion", None)
        return self

    def _run_search(self, evaluate_candidates, **kwargs):
        fusion = self.__dict__.get("_fusion")
        if fusion is None:
            return super()._run_search(evaluate_candidates, **kwargs)

        def evaluate(candidate_params, cv=None, more_results=None, **more):
            return fusion.evaluate(evaluate_candidates, candidate_params, cv=cv,
                                   more_results=more_results, **more)
        return super()._run_search(evaluate, **kwargs)

    # (scikit-learn >= 1.9 passes its callback context to a _run_search that names it)
    _run_search.__signature__ = inspect.signature(_sk.GridSearchCV._run_search)


_FUSED_NOTE = """
    sklloss's version of scikit-learn's class (the same parameters, attributes, methods
    and results): when the estimator is an sklloss SGD estimator (SGDClassifier,
    SGDRegressor, SGDOneClassSVM, Perceptron), alone or the final step of a
    ``Pipeline``, the candidates of each fold are fitted together: the pipeline's
    earlier steps once per fold (per setting of theirs that the candidates vary), the
    SGD fits in shared passes over the fold's rows. Each candidate's fitted model is
    the one its own fit gives, bit for bit, so with an integer ``random_state`` the
    search's results are those of scikit-learn's class over the same estimator. Two
    differences, both of speed's making:

    - with ``random_state=None`` (the estimators' default), where separate fits would
      each draw their own row order, the candidates of a fold share one;
    - ``cv_results_["mean_fit_time"]`` of candidates fitted together is the time their
      evaluation spent taking the shared fit (near zero); the shared fits' time is
      ``fused_fit_time_``.

    Any other estimator, input other than a NumPy array or a CSR matrix, or a
    pipeline given fit parameters, is searched by scikit-learn's own code. With
    ``n_jobs`` > 1 the candidates' evaluations run in threads of this process (the
    fits release the GIL), whatever joblib backend is active.
"""


def _docstring(sklearn_class, example):
    """A search's docstring: scikit-learn's summary line, what sklloss's does, and its
    example."""
    return (sklearn_class.__doc__.split("\n\n", 1)[0] + "\n" + _FUSED_NOTE + f"""
    Parameters, attributes and methods: those of
    :class:`sklearn.model_selection.{sklearn_class.__name__}`, and

    Attributes
    ----------
    fused_fit_time_ : float
        Seconds spent fitting candidates together (on every fold), when they were.

    Examples
    --------{example}""")


class GridSearchCV(_FusedSearch, _sk.GridSearchCV):
    __doc__ = _docstring(_sk.GridSearchCV, """
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklloss import SGDClassifier
    >>> from sklloss.model_selection import GridSearchCV
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> search = GridSearchCV(
    ...     make_pipeline(StandardScaler(), SGDClassifier(random_state=0)),
    ...     {"sgdclassifier__loss": ["hinge", "log_loss"],
    ...      "sgdclassifier__alpha": [1e-4, 1e-3, 1e-2]})
    >>> search.fit(X, y).best_params_
    {'sgdclassifier__alpha': 0.0001, 'sgdclassifier__loss': 'hinge'}
    """)


class RandomizedSearchCV(_FusedSearch, _sk.RandomizedSearchCV):
    __doc__ = _docstring(_sk.RandomizedSearchCV, """
    >>> from scipy.stats import loguniform
    >>> from sklearn.datasets import load_diabetes
    >>> from sklearn.preprocessing import scale
    >>> from sklloss import SGDRegressor
    >>> from sklloss.model_selection import RandomizedSearchCV
    >>> X, y = load_diabetes(return_X_y=True)
    >>> search = RandomizedSearchCV(
    ...     SGDRegressor(random_state=0),
    ...     {"alpha": loguniform(1e-5, 1e-1), "loss": ["squared_error", "huber"]},
    ...     n_iter=8, random_state=0)
    >>> search.fit(scale(X), y).best_params_["loss"]
    'squared_error'
    """)
