# Row kernels of the SGD engine: what touches one row of X. A dense row is x[0:d],
# read as a contiguous slice; a sparse (CSR) row is (x[0:nnz], idx[0:nnz]).
#
# The hot dense loops are small C functions (_rows.h): `omp simd` reductions, an AVX2 clone
# chosen at run time where the CPU has it (GCC's target_clones), so that the default
# build runs on any x86-64.

from cython cimport floating
from libc.math cimport fabs
from libc.stdint cimport int32_t, int64_t

ctypedef fused index_t:
    int32_t
    int64_t

cdef extern from "sklloss/linear_model/_rows.h":
    void _prefetch "SKLLOSS_PREFETCH"(const void* p) noexcept nogil
    double _dot_dense_d "sklloss_dot_d"(const double* w, const double* x,
                                        Py_ssize_t n, double* unused) noexcept nogil
    float _dot_dense_f "sklloss_dot_f"(const float* w, const float* x,
                                       Py_ssize_t n, float* unused) noexcept nogil
    double _dot_sq_dense_d "sklloss_dot_sq_d"(const double* w, const double* x,
                                              Py_ssize_t n, double* xsq) noexcept nogil
    float _dot_sq_dense_f "sklloss_dot_sq_f"(const float* w, const float* x,
                                             Py_ssize_t n, float* xsq) noexcept nogil
    double _sum_dense_d "sklloss_sum_d"(const double* x, Py_ssize_t n) noexcept nogil
    float _sum_dense_f "sklloss_sum_f"(const float* x, Py_ssize_t n) noexcept nogil
    void _axpy_dense_d "sklloss_axpy_d"(double* w, const double* x, double c,
                                        Py_ssize_t n) noexcept nogil
    void _axpy_dense_f "sklloss_axpy_f"(float* w, const float* x, float c,
                                        Py_ssize_t n) noexcept nogil


cdef inline double _dot(const floating* w, const floating* x, const index_t* idx,
                        Py_ssize_t nnz) noexcept nogil:
    """<w, x> for a dense row (idx NULL) or a sparse one."""
    cdef Py_ssize_t j
    cdef floating s = 0
    if idx == NULL:
        if floating is double:
            return _dot_dense_d(w, x, nnz, NULL)
        else:
            return _dot_dense_f(w, x, nnz, NULL)
    for j in range(nnz):
        s += w[idx[j]] * x[j]
    return <double>s


cdef inline double _dot_sq(const floating* w, const floating* x, const index_t* idx,
                           Py_ssize_t nnz, double* xsq) noexcept nogil:
    """<w, x>, and ||x||^2 in xsq, in one pass over the row."""
    cdef Py_ssize_t j
    cdef floating s = 0, q = 0
    if idx == NULL:
        if floating is double:
            s = _dot_sq_dense_d(w, x, nnz, &q)
        else:
            s = _dot_sq_dense_f(w, x, nnz, &q)
    else:
        for j in range(nnz):
            s += w[idx[j]] * x[j]
            q += x[j] * x[j]
    xsq[0] = q
    return <double>s


cdef inline double _sqnorm(const floating* x, Py_ssize_t nnz) noexcept nogil:
    """||x||^2 of a row's values."""
    if floating is double:
        return _dot_dense_d(x, x, nnz, NULL)
    else:
        return _dot_dense_f(x, x, nnz, NULL)


cdef inline double _sum(const floating* x, Py_ssize_t nnz) noexcept nogil:
    """The sum of a row's values."""
    if floating is double:
        return _sum_dense_d(x, nnz)
    else:
        return _sum_dense_f(x, nnz)


cdef inline double _add(floating* w, const floating* x, const index_t* idx,
                        Py_ssize_t nnz, double c, bint track_l1) noexcept nogil:
    """v += c * x; returns the change of sum |v| when track_l1 (else 0)."""
    cdef Py_ssize_t j
    cdef floating cf = <floating>c
    cdef floating old
    cdef floating dl1 = 0
    if idx == NULL:
        if track_l1:
            for j in range(nnz):
                old = w[j]
                w[j] = old + x[j] * cf
                dl1 += fabs(w[j]) - fabs(old)
        elif floating is double:
            _axpy_dense_d(w, x, cf, nnz)
        else:
            _axpy_dense_f(w, x, cf, nnz)
    else:
        for j in range(nnz):
            old = w[idx[j]]
            w[idx[j]] = old + x[j] * cf
            if track_l1:
                dl1 += fabs(w[idx[j]]) - fabs(old)
    return <double>dl1


cdef inline void _prefetch_range(const void* start, Py_ssize_t n_bytes) noexcept nogil:
    """Prefetch every 64-byte cache line of n_bytes from start: from the line `start`
    is in (a range that starts inside a line and steps by 64 from there misses its
    last line whenever it ends in a line its start's offset does not reach: for rows
    of 10 float64, one row in five)."""
    cdef const char* end = <const char*>start + n_bytes
    cdef const char* p = <const char*>(<size_t>start & ~(<size_t>63))
    while p < end:
        _prefetch(p)
        p += 64
