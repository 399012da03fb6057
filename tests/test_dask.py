"""sklloss on a Dask cluster: dask-ml's Incremental and ParallelPostFit, and joblib's
Dask backend for GridSearchCV, on a real distributed.LocalCluster (worker processes on
loopback, started and closed here). Dask, distributed and dask-ml come with the `dask`
and `test` extras.

Independent truths: the same partial_fit calls made locally on the same blocks (bit
for bit), scikit-learn's SGD under the same wrapper, a fit on the in-memory data, and
the search run with joblib's default backend.
"""
import dask.array as da
import joblib
import numpy as np
import pytest
import sklearn.linear_model as sk
from dask_ml.wrappers import Incremental, ParallelPostFit
from distributed import Client, LocalCluster, get_task_stream
from sklearn.base import clone
from sklearn.datasets import make_classification, make_regression
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklloss import SGDClassifier, SGDRegressor
from sklloss.linear_model import _engine
from sklloss.losses import Huber, MultinomialLogLoss

BLOCK = 1_000


@pytest.fixture(scope="module")
def client():
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      host="127.0.0.1", dashboard_address=None) as cluster, \
            Client(cluster) as client:
        yield client


def _classification(n_classes):
    X, y = make_classification(n_samples=8_000, n_features=20, n_informative=10,
                               n_redundant=0, n_classes=n_classes,
                               n_clusters_per_class=1, class_sep=1.5, random_state=0)
    X = StandardScaler().fit_transform(X)
    return train_test_split(X, y, test_size=2_000, random_state=0)


def _regression():
    X, y = make_regression(n_samples=8_000, n_features=20, noise=10.0, random_state=0)
    X = StandardScaler().fit_transform(X)
    return train_test_split(X, y / y.std(), test_size=2_000, random_state=0)


def _name(key):
    """A task key's name: dask keys are a name or a (name, index...) tuple."""
    return key[0] if isinstance(key, tuple) else key


def _blocks(array):
    return da.from_array(array, chunks=(BLOCK,) + array.shape[1:])


@pytest.mark.parametrize("estimator, n_classes", [
    (SGDClassifier(loss="log_loss", alpha=1e-3, random_state=0), 2),
    (SGDClassifier(loss="multinomial_log_loss", alpha=1e-3, random_state=0), 4),
    (SGDClassifier(loss="hinge", average=True, random_state=0), 4),
    (SGDRegressor(loss=Huber(epsilon=1.0), random_state=0), None),
])
def test_incremental_on_a_chunked_dask_array(client, estimator, n_classes):
    """Incremental sends the estimator to a worker for each block's partial_fit, in
    order: the result is the model those partial_fit calls give locally, and it is as
    good as a fit on the data in memory."""
    X_train, X_test, y_train, y_test = (_classification(n_classes) if n_classes
                                        else _regression())
    extra = {"classes": np.unique(y_train)} if n_classes else {}
    passes = 3
    incremental = Incremental(clone(estimator), shuffle_blocks=False)
    with get_task_stream(client) as tasks:
        for _ in range(passes):
            incremental.partial_fit(_blocks(X_train), _blocks(y_train), **extra)
    # the partial_fit calls ran on the cluster: one task per block and pass
    fit_tasks = [task for task in tasks.data if _name(task["key"]).startswith("fit-")]
    assert len(fit_tasks) >= passes * len(y_train) // BLOCK

    local = clone(estimator)
    for _ in range(passes):
        for start in range(0, len(y_train), BLOCK):
            rows = slice(start, start + BLOCK)
            local.partial_fit(X_train[rows], y_train[rows], **extra)
    np.testing.assert_array_equal(incremental.estimator_.coef_, local.coef_)
    np.testing.assert_array_equal(incremental.estimator_.intercept_, local.intercept_)
    assert incremental.estimator_.t_ == local.t_

    in_memory = clone(estimator).set_params(max_iter=passes, tol=None).fit(X_train, y_train)
    streamed_score = incremental.estimator_.score(X_test, y_test)
    assert streamed_score > in_memory.score(X_test, y_test) - 0.02
    assert streamed_score > (0.85 if n_classes else 0.9)


@pytest.mark.parametrize("ours, theirs", [
    (SGDClassifier(random_state=0), sk.SGDClassifier(random_state=0)),
    (SGDRegressor(random_state=0), sk.SGDRegressor(random_state=0)),
])
def test_incremental_gives_scikit_learns_model(client, ours, theirs):
    """Binary and regression partial_fit follow scikit-learn's path, on a cluster too."""
    X_train, _, y_train, _ = (_classification(2) if isinstance(ours, SGDClassifier)
                              else _regression())
    extra = {"classes": [0, 1]} if isinstance(ours, SGDClassifier) else {}
    models = []
    for estimator in (ours, theirs):
        incremental = Incremental(estimator, shuffle_blocks=False)
        incremental.fit(_blocks(X_train), _blocks(y_train), **extra)
        models.append(incremental.estimator_)
    np.testing.assert_allclose(models[0].coef_, models[1].coef_, rtol=1e-9, atol=1e-12)


def test_grid_search_over_losses_on_the_dask_backend(client):
    X_train, _, y_train, _ = _classification(3)
    search = GridSearchCV(
        make_pipeline(StandardScaler(), SGDClassifier(random_state=0)),
        {"sgdclassifier__loss": ["hinge", "log_loss", "modified_huber",
                                 "multinomial_log_loss", MultinomialLogLoss()],
         "sgdclassifier__alpha": [1e-4, 1e-2]},
        cv=3)
    local = clone(search).fit(X_train, y_train)
    with get_task_stream(client) as tasks, joblib.parallel_backend("dask"):
        distributed = clone(search).fit(X_train, y_train)
    # the 30 fits ran on the cluster's workers (joblib batches them into tasks)
    assert tasks.data and all(task["worker"] in client.scheduler_info()["workers"]
                              for task in tasks.data)
    assert distributed.best_params_ == local.best_params_
    assert distributed.best_score_ == local.best_score_
    np.testing.assert_array_equal(distributed.cv_results_["mean_test_score"],
                                  local.cv_results_["mean_test_score"])
    np.testing.assert_array_equal(distributed.best_estimator_[-1].coef_,
                                  local.best_estimator_[-1].coef_)


@pytest.mark.parametrize("estimator", [
    SGDClassifier(loss="multinomial_log_loss", random_state=0),
    SGDClassifier(loss="modified_huber", random_state=0),
])
def test_parallel_post_fit_predicts_a_dask_array(client, estimator):
    X_train, X_test, y_train, _ = _classification(3)
    wrapped = ParallelPostFit(estimator).fit(X_train, y_train)
    X_blocks = _blocks(X_test)
    predicted = wrapped.predict(X_blocks)
    probabilities = wrapped.predict_proba(X_blocks)
    assert isinstance(predicted, da.Array) and isinstance(probabilities, da.Array)
    fitted = wrapped.estimator  # (fitted in place)
    np.testing.assert_array_equal(predicted.compute(), fitted.predict(X_test))
    np.testing.assert_allclose(probabilities.compute(), fitted.predict_proba(X_test),
                               rtol=1e-12)


def test_n_jobs_none_is_one_thread_under_the_dask_backend(client, monkeypatch):
    """Inside a joblib backend (the Dask one in a GridSearchCV: every fit runs there),
    joblib's effective_n_jobs(None) counts the backend's workers: the whole cluster's
    cores. The engine's threads are this machine's, so None stays one thread (it used
    to start a thread per cluster core on one-thread workers: a 25x slower search)."""
    seen = []
    real_engine = _engine.fit_epochs

    def spy(*args, **kwargs):
        seen.append(args[3].n_threads)  # (its RunSettings)
        return real_engine(*args, **kwargs)

    monkeypatch.setattr(_engine, "fit_epochs", spy)
    X_train, _, y_train, _ = _classification(4)
    with joblib.parallel_backend("dask"):
        assert joblib.effective_n_jobs(None) == 2  # the cluster's two workers
        SGDClassifier(max_iter=2, tol=None).fit(X_train, y_train)
        SGDClassifier(max_iter=2, tol=None, n_jobs=-1).fit(X_train, y_train)
    assert seen == [1, min(joblib.cpu_count(), 4)]
