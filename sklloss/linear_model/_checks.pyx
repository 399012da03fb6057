# One-pass checks of plain arrays, for the estimators' fast path.
#
# Each answers one question with True or False and raises nothing: True means the
# array is fine as it is; False sends the estimator down scikit-learn's validation,
# which then raises its usual error (or converts what it can). So these only ever
# decide how fast a call is, never what it does.

from cython cimport floating
from libc.math cimport isfinite
from libc.stdint cimport int32_t, int64_t

ctypedef fused index_t:
    int32_t
    int64_t


cdef extern from "sklloss/linear_model/_checks.h":
    double _sum_d "sklloss_sum_d"(const double* x, Py_ssize_t n) noexcept nogil
    double _sum_f "sklloss_sum_f"(const float* x, Py_ssize_t n) noexcept nogil


cdef bint _all_finite(const floating* values, Py_ssize_t n) noexcept nogil:
    # One sum decides the common case: the sum of finite float32 or float64 values,
    # accumulated in float64, is finite unless it overflows, and a non-finite value
    # makes it NaN or infinite. Only then is each value looked at (scikit-learn's
    # `_assert_all_finite` does the same with np.isfinite(np.sum(X)) first).
    cdef Py_ssize_t j
    cdef bint ok = True
    cdef double total = _sum_f(<const float*>values, n) if floating is float else \
        _sum_d(<const double*>values, n)
    if isfinite(total):
        return True
    for j in range(n):
        ok &= isfinite(values[j])
    return ok


def all_finite(const floating[::1] values):
    """True when no value is NaN or infinite."""
    cdef bint ok
    if values.shape[0] == 0:
        return True
    with nogil:
        ok = _all_finite(&values[0], values.shape[0])
    return ok


def csr_is_canonical_and_finite(const floating[::1] data, const index_t[::1] indices,
                                const index_t[::1] indptr, Py_ssize_t n_rows,
                                Py_ssize_t n_features):
    """True for a CSR matrix the engine can read as it is: `indptr` has n_rows + 1
    non-decreasing entries from 0 to at most the stored values, each row's column
    indices are strictly increasing (sorted, no duplicates) and inside [0, n_features),
    and every stored value is finite."""
    cdef Py_ssize_t r, j
    cdef index_t previous
    cdef bint ok = True
    if indptr.shape[0] != n_rows + 1 or indptr[0] != 0:
        return False
    if indptr[n_rows] > indices.shape[0] or indptr[n_rows] > data.shape[0]:
        return False
    with nogil:
        for r in range(n_rows):
            if indptr[r + 1] < indptr[r]:
                ok = False
                break
        # (now every row lies inside the stored values)
        r = 0
        while ok and r < n_rows:
            previous = -1
            for j in range(indptr[r], indptr[r + 1]):
                if indices[j] <= previous:
                    ok = False
                    break
                previous = indices[j]
            if previous >= n_features:
                ok = False
            r += 1
        if ok and data.shape[0] > 0:
            ok = _all_finite(&data[0], data.shape[0])
    return ok
