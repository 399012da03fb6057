"""An estimator's whole state, kept and compared: "a failed call changes nothing"
(tests/test_robustness.py, tests/test_one_class.py)."""
import copy

import numpy as np
import scipy.sparse as sp


def snapshot(estimator):
    return copy.deepcopy(vars(estimator))


def assert_same_state(estimator, before):
    after = vars(estimator)
    assert after.keys() == before.keys()
    for name, value in before.items():
        _assert_identical(after[name], value, name)


def _assert_identical(a, b, name):
    if isinstance(b, np.ndarray):
        assert isinstance(a, np.ndarray) and a.dtype == b.dtype and a.shape == b.shape, name
        np.testing.assert_array_equal(a, b, err_msg=name)
    elif sp.issparse(b):
        assert sp.issparse(a) and a.format == b.format, name
        np.testing.assert_array_equal(a.toarray(), b.toarray(), err_msg=name)
    elif isinstance(b, dict):
        assert a.keys() == b.keys(), name
        for key in b:
            _assert_identical(a[key], b[key], f"{name}[{key!r}]")
    elif isinstance(b, (list, tuple)):
        assert type(a) is type(b) and len(a) == len(b), name
        for i, (x, y) in enumerate(zip(a, b)):
            _assert_identical(x, y, f"{name}[{i}]")
    elif isinstance(b, (bool, int, float, str, type(None), np.generic)):
        assert type(a) is type(b) and (a == b or (a != a and b != b)), name
    else:  # loss objects, random states: their parameters and state
        assert type(a) is type(b) and repr(a) == repr(b), name
        if hasattr(b, "__dict__"):
            _assert_identical(vars(a), vars(b), name)
