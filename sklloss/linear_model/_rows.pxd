# Row kernels of the SGD engine: what touches one row of X. A dense row is x[0:d],
# read as a contiguous slice; a sparse (CSR) row is (x[0:nnz], idx[0:nnz]).
#
# The hot dense loops are small C functions: `omp simd` reductions, and an AVX2 clone
# chosen at run time where the CPU has it (GCC's target_clones), so that the default
# build runs on any x86-64.

from cython cimport floating
from libc.math cimport fabs
from libc.stdint cimport int32_t, int64_t

ctypedef fused index_t:
    int32_t
    int64_t

cdef extern from *:
    """
    #if defined(__GNUC__)
    #define SKLLOSS_PREFETCH(p) __builtin_prefetch((const void *)(p), 0, 3)
    #else
    #define SKLLOSS_PREFETCH(p) ((void)0)
    #endif
    """
    void _prefetch "SKLLOSS_PREFETCH"(const void* p) noexcept nogil

cdef extern from *:
    """
    /* Dense dot products, the engine's hottest loop. `omp simd reduction` lets the
       compiler split the sum into vector lanes (it may not reorder one sequential sum
       without -ffast-math; this pragma permits it for this sum only, with
       -fopenmp-simd, and keeps IEEE semantics everywhere else). GCC also compiles an
       AVX2 clone chosen at run time on CPUs that have it; the default clone runs on
       any x86-64. The two differ only in summation order. */
    #if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
    #define SKLLOSS_CLONES __attribute__((target_clones("avx2", "default")))
    #else
    #define SKLLOSS_CLONES
    #endif
    SKLLOSS_CLONES static double sklloss_dot_d(const double *w, const double *x,
                                               Py_ssize_t n) {
        double s = 0.0;
        #pragma omp simd reduction(+:s)
        for (Py_ssize_t j = 0; j < n; j++) s += w[j] * x[j];
        return s;
    }
    SKLLOSS_CLONES static float sklloss_dot_f(const float *w, const float *x,
                                              Py_ssize_t n) {
        float s = 0.0f;
        #pragma omp simd reduction(+:s)
        for (Py_ssize_t j = 0; j < n; j++) s += w[j] * x[j];
        return s;
    }
    SKLLOSS_CLONES static void sklloss_axpy_d(double *w, const double *x, double c,
                                              Py_ssize_t n) {
        for (Py_ssize_t j = 0; j < n; j++) w[j] += x[j] * c;
    }
    SKLLOSS_CLONES static void sklloss_axpy_f(float *w, const float *x, float c,
                                              Py_ssize_t n) {
        for (Py_ssize_t j = 0; j < n; j++) w[j] += x[j] * c;
    }
    """
    double _dot_dense_d "sklloss_dot_d"(const double* w, const double* x,
                                        Py_ssize_t n) noexcept nogil
    float _dot_dense_f "sklloss_dot_f"(const float* w, const float* x,
                                       Py_ssize_t n) noexcept nogil
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
            return _dot_dense_d(w, x, nnz)
        else:
            return _dot_dense_f(w, x, nnz)
    for j in range(nnz):
        s += w[idx[j]] * x[j]
    return <double>s


cdef inline double _sqnorm(const floating* x, Py_ssize_t nnz) noexcept nogil:
    """||x||^2 of a row's values."""
    if floating is double:
        return _dot_dense_d(x, x, nnz)
    else:
        return _dot_dense_f(x, x, nnz)


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
    """Prefetch every 64-byte cache line of n_bytes from start."""
    cdef const char* p = <const char*>start
    cdef const char* end = p + n_bytes
    while p < end:
        _prefetch(p)
        p += 64
