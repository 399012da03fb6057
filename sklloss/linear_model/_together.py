"""Several SGD fits in one pass over their rows.

`fit_together` runs each estimator's own ``fit``, each in a thread of its own: its
validation, labels, class weights, seeds and initial model, as alone. Where a fit
hands its epochs to the engine (``_BaseSGD._run_engine``), the fits meet: the fits
whose rows, targets, weights, held-out rows, row order and epochs agree run as the
models of one engine call (in the calling thread, which sees Ctrl-C), the others alone;
then each fit goes on with its own part of the result, as it would have alone. The
engine's models do not interact (a model's result is the one it gets alone, bit for
bit: tests/test_engine_models.py), so every estimator ends exactly as its own fit
would leave it; only the time differs.

What makes fits share an engine call is the data they hand it, compared there (the
same X in memory, equal targets, weights and masks, the same seed, epochs, time step
and intercept decay), never a guess from their parameters: a fit that cannot join
(verbose output, another X) simply runs alone.
"""
import threading

import numpy as np

from . import _engine

_local = threading.local()


def checked_rows():
    """The X that the calling thread's fit_together found plain (finite values, a
    canonical CSR structure) once for all its fits, or None: a fit's own checks
    need not read it again."""
    return getattr(_local, "checked_rows", None)


def current_rendezvous():
    """The rendezvous the calling thread's fit meets the others at, once; else None."""
    rendezvous = getattr(_local, "rendezvous", None)
    _local.rendezvous = None  # (a second engine call of the same fit runs alone)
    return rendezvous


class _Request:
    """One fit's engine call, waiting for its result."""

    __slots__ = ("models", "data", "arrays", "run", "result", "error")

    def __init__(self, models, data, arrays, run):
        self.models, self.data, self.arrays, self.run = tuple(models), data, arrays, run
        self.result = self.error = None


class _Rendezvous:
    """Where n fits' engine calls meet: each fit's thread submits its call (or ends
    without one), the serving thread runs them in groups once every fit is there."""

    def __init__(self, n_fits):
        self._expected = n_fits
        self._condition = threading.Condition()
        self._requests = []
        self._closed = None  # the exception every later request gets (Ctrl-C)

    def submit(self, models, data, arrays, run):
        """Called by a fit's thread in place of the engine: waits for its result."""
        request = _Request(models, data, arrays, run)
        with self._condition:
            if self._closed is not None:
                raise self._closed
            self._requests.append(request)
            self._expected -= 1
            self._condition.notify_all()
            while request.result is None and request.error is None:
                self._condition.wait()
        if request.error is not None:
            raise request.error
        return request.result

    def leave(self):
        """A fit's thread ends without having submitted (its fit failed before)."""
        with self._condition:
            self._expected -= 1
            self._condition.notify_all()

    def serve(self, n_threads):
        """Wait for every fit, then run their calls, group by group."""
        with self._condition:
            while self._expected > 0:
                self._condition.wait()
            requests = list(self._requests)
        try:
            for group in _groups(requests, n_threads):
                try:
                    results = _run_group(group, n_threads)
                except (ValueError, MemoryError) as error:  # (as each fit alone would)
                    results = [error] * len(group)
                with self._condition:
                    for request, result in zip(group, results):
                        if isinstance(result, BaseException):
                            request.error = result
                        else:
                            request.result = result
                    self._condition.notify_all()
        except BaseException as error:  # Ctrl-C: every fit still waiting stops
            with self._condition:
                self._closed = error
                for request in requests:
                    if request.result is None and request.error is None:
                        request.error = error
                self._condition.notify_all()
            raise


def fit_together(estimators, X, y=None, *, n_threads=1, **fit_params):
    """Fit every estimator on (X, y) as its own ``fit`` would, in as few passes over
    the rows as their engine calls allow.

    Returns, per estimator, None (fitted) or the exception its fit raised (its state
    is then as before the call, as after any failed fit). A KeyboardInterrupt stops
    them all and is raised again.
    """
    rendezvous = _Rendezvous(len(estimators))
    outcomes = [None] * len(estimators)
    # (X's values checked once here, not once per fit: each fit still checks its
    # shape, and an X that fails is checked, and refused, by every fit itself)
    from ._sgd_base import is_plain_csr, is_plain_dense
    checked = X if is_plain_dense(X, None) or is_plain_csr(X, None) else None

    def fit(i, estimator):
        _local.rendezvous = rendezvous
        _local.checked_rows = checked
        try:
            estimator.fit(X, y, **fit_params)
        except BaseException as error:  # noqa: BLE001 - handed to the caller
            outcomes[i] = error
        finally:
            _local.checked_rows = None
            if getattr(_local, "rendezvous", None) is rendezvous:
                _local.rendezvous = None
                rendezvous.leave()

    threads = [threading.Thread(target=fit, args=(i, estimator), daemon=True)
               for i, estimator in enumerate(estimators)]
    for thread in threads:
        thread.start()
    try:
        rendezvous.serve(n_threads)
    finally:
        for thread in threads:
            thread.join()
    for outcome in outcomes:
        if isinstance(outcome, KeyboardInterrupt):
            raise outcome
    return outcomes


# -- grouping and running --------------------------------------------------------------
def _memory(array):
    """Where an array's values are: equal for the same array (or view of it)."""
    if array is None:
        return None
    array = np.asarray(array)
    return (array.__array_interface__["data"][0], array.shape, array.strides,
            array.dtype.str)


def _key(request):
    data, run = request.data, request.run
    return (_memory(data.X_data), _memory(data.X_indices), _memory(data.X_indptr),
            bool(data.sparse), int(data.n_features), bool(data.classification),
            int(run.max_iter), int(run.seed), float(run.t), float(run.intercept_decay),
            bool(run.shuffle), data.validation_mask is None)


def _same_rows(a, b):
    """Whether two requests' targets, weights and held-out rows are equal."""
    x, y = a.data, b.data
    return (np.array_equal(x.y, y.y) and np.array_equal(x.sample_weight, y.sample_weight)
            and (x.validation_mask is None or np.array_equal(x.validation_mask,
                                                             y.validation_mask))
            and (x.n_classes == 0 or y.n_classes == 0 or x.n_classes == y.n_classes))


def _own_jobs(request):
    """Whether the engine gives each of the request's models a job of its own over
    CSR rows (weights too large to share the cache: _engine.SPARSE_JOB_BYTES)."""
    coef = request.arrays.coef
    model_bytes = coef.shape[0] // max(1, len(request.models)) * coef.shape[1] * \
        coef.itemsize
    return request.data.sparse and _engine.sparse_models_per_job(model_bytes) == 1


def _groups(requests, n_threads):
    """The requests in groups that share an engine call. Alone: a verbose fit (its
    printing is its own), and in one thread a fit over CSR rows whose models have jobs
    of their own. Those read the rows once per model in any call; in one thread a
    shared call only runs their epochs in turn, so that each model's weights leave the
    cache between two of its epochs (measured, 12 fits of 2^18 weights, 60 non-zeros
    a row, medians of 5: shared, 1.26 times the time alone at 10k rows, 1.01 at 40k,
    0.98 at 160k); with two threads it runs their jobs in parallel (0.46-0.57 of the
    time alone from 40k rows, 0.90 at 10k)."""
    groups = {}
    alone = []
    for request in requests:
        if request.run.verbose or (n_threads == 1 and _own_jobs(request)):
            alone.append([request])
            continue
        for group in groups.setdefault(_key(request), []):
            if _same_rows(group[0], request):
                group.append(request)
                break
        else:
            groups[_key(request)].append([request])
    return [group for by_key in groups.values() for group in by_key] + alone


def _run_group(group, n_threads):
    """The group's calls as one engine call; each request's part of the result."""
    if len(group) == 1:
        (request,) = group
        return [_engine.fit_epochs(request.models, request.data, request.arrays,
                                   request.run)]
    first = group[0]
    sizes = [r.arrays.coef.shape[0] for r in group]
    bounds = np.concatenate([[0], np.cumsum(sizes)])
    K, d = int(bounds[-1]), first.arrays.coef.shape[1]
    dtype = first.arrays.coef.dtype
    averaged = any(r.arrays.average_coef.shape[0] for r in group)
    per_coordinate = any(r.arrays.step_state is not None for r in group)

    def stacked(name, empty_rows):
        parts = []
        for r, size in zip(group, sizes):
            part = getattr(r.arrays, name)
            parts.append(part if part.shape[0] else empty_rows(size))
        return np.concatenate(parts)

    arrays = _engine.ModelArrays(
        coef=np.concatenate([r.arrays.coef for r in group]),
        intercept=np.concatenate([r.arrays.intercept for r in group]),
        average_coef=stacked("average_coef", lambda n: np.zeros((n, d), dtype=dtype))
        if averaged else np.zeros((0, d), dtype=dtype),
        average_intercept=stacked("average_intercept", lambda n: np.zeros(n))
        if averaged else np.zeros(0),
        pos_label=np.concatenate([r.arrays.pos_label for r in group]),
        weight_pos=np.concatenate([r.arrays.weight_pos for r in group]),
        weight_neg=np.concatenate([r.arrays.weight_neg for r in group]),
        step_scale=np.concatenate([np.ones(size) if r.arrays.step_scale is None
                                   else np.asarray(r.arrays.step_scale, dtype=float)
                                   for r, size in zip(group, sizes)]),
        step_state=tuple(
            np.concatenate([_state_part(r.arrays.step_state, i, size, d)
                            for r, size in zip(group, sizes)]) for i in range(3))
        if per_coordinate else None)
    n_classes = max(r.data.n_classes for r in group)
    data = first.data
    data = _engine.TrainingData(
        X_data=data.X_data, X_indices=data.X_indices, X_indptr=data.X_indptr,
        sparse=data.sparse, n_features=data.n_features, y=data.y,
        sample_weight=data.sample_weight, classification=data.classification,
        n_classes=n_classes, validation_mask=data.validation_mask)
    scores = None
    if data.validation_mask is not None:
        scores = _Scores([(bounds[i], bounds[i + 1], r.run.validation_score)
                          for i, r in enumerate(group)], K)
    run = first.run
    run = _engine.RunSettings(
        max_iter=run.max_iter, seed=run.seed, t=run.t, intercept_decay=run.intercept_decay,
        shuffle=run.shuffle, verbose=0, n_threads=n_threads, validation_score=scores,
        stop_at_divergence=False)
    result = _engine.fit_epochs([m for r in group for m in r.models], data, arrays, run)
    return [_part(result, arrays, r, bounds[i], bounds[i + 1])
            for i, r in enumerate(group)]


def _state_part(step_state, i, n, d):
    """Part i of a fit's per-coordinate state for the stacked call: its own, or (a
    fit without it, or 'adagrad''s unused inverse scales) a fresh one of its n rows."""
    fresh = np.zeros((n, 3)) if i == 2 else (np.full((n, d), np.inf) if i == 1
                                             else np.zeros((n, d)))
    if step_state is None or step_state[i].shape != fresh.shape:
        return fresh
    return step_state[i]


class _Scores:
    """The validation scores of a group's fits: each fit's own callback on its outputs,
    called while some of them learn (as alone: one call per epoch it runs)."""

    def __init__(self, parts, n_outputs):
        self.parts = parts
        self.n_outputs = n_outputs

    def __call__(self, v, intercept, wscale, active):
        scores = np.zeros(self.n_outputs)
        for begin, end, callback in self.parts:
            if callback is not None and np.any(active[begin:end]):
                scores[begin:end] = callback(v[begin:end], intercept[begin:end],
                                             wscale[begin:end], active[begin:end])
        return scores


def _part(result, arrays, request, begin, end):
    """Request's outputs begin..end-1 of a group's result: its arrays written back in
    place, and the result its own engine call would have returned."""
    mine = request.arrays
    mine.coef[...] = arrays.coef[begin:end]
    mine.intercept[...] = arrays.intercept[begin:end]
    if mine.average_coef.shape[0]:
        mine.average_coef[...] = arrays.average_coef[begin:end]
        mine.average_intercept[...] = arrays.average_intercept[begin:end]
    if mine.step_state is not None:
        for i in range(3):
            if mine.step_state[i].shape == arrays.step_state[i][begin:end].shape:
                mine.step_state[i][...] = arrays.step_state[i][begin:end]
    n_iter = result["n_iter"][begin:end]
    diverged = result["diverged"][begin:end]
    overflow = result["average_diverged"][begin:end]
    # (alone, the epochs run: to the first divergence, else to the last output's stop)
    epochs = int(diverged[diverged > 0].min()) if np.any(diverged > 0) else int(n_iter.max())
    return {
        "status": _engine.DIVERGED if np.any(diverged > 0) or np.any(overflow)
        else _engine.OK,
        "epoch": epochs,
        "n_iter": n_iter.copy(),
        "diverged": diverged.copy(),
        "average_diverged": overflow.copy(),
        "t": result["t"][begin:end].copy(),
        "objective_curve": [epoch[begin:end] for epoch in result["objective_curve"][:epochs]],
        "score_curve": [epoch[begin:end] for epoch in result["score_curve"][:epochs]],
    }
