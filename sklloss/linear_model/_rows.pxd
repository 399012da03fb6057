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
    /* The empty volatile asm is a side effect, so that GCC's IPA never finds a
       function made only of prefetches (like _prefetch_ahead) "const" and deletes its
       calls as dead code, as GCC 12 does: it removed every prefetch of the epoch
       (measured: 3x slower epochs). It emits no instruction. */
    #if defined(__GNUC__)
    #define SKLLOSS_PREFETCH(p) \
        do { __builtin_prefetch((const void *)(p), 0, 3); __asm__ __volatile__(""); } while (0)
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
    /* <w, x>, and with WITH_SQ ||x||^2 in the same pass (one read of the row for
       both). Four vector accumulators of 32 bytes (4 doubles, 8 floats) for each sum:
       one accumulator makes the loop wait for each addition's latency, four keep
       the adder busy (at d = 1000 the sum is no longer the epoch's critical path).
       The vectors are GCC's generic ones: AVX2 registers in the AVX2 clone, pairs of
       SSE2 registers in the default one, the same arithmetic in both. */
    #if defined(__GNUC__)
    typedef double sklloss_vd __attribute__((vector_size(32)));
    typedef float sklloss_vf __attribute__((vector_size(32)));
    #define SKLLOSS_LOAD(v, p) __builtin_memcpy(&(v), (p), sizeof(v))
    #define SKLLOSS_ACCUMULATE(S, Q, WITH_SQ, o)                                     \
        SKLLOSS_LOAD(a, x + j + (o)); SKLLOSS_LOAD(b, w + j + (o));                  \
        S += a * b;                                                                 \
        if (WITH_SQ) Q += a * a;
    #define SKLLOSS_DOT(NAME, T, V, WITH_SQ)                                          \
    SKLLOSS_CLONES static T NAME(const T *w, const T *x, Py_ssize_t n, T *xsq) {     \
        enum { L = sizeof(V) / sizeof(T) };                                          \
        V s0 = {0}, s1 = {0}, s2 = {0}, s3 = {0};                                    \
        V q0 = {0}, q1 = {0}, q2 = {0}, q3 = {0};                                    \
        V a, b;                                                                      \
        Py_ssize_t j = 0;                                                            \
        int l;                                                                       \
        T s = 0, q = 0;                                                              \
        for (; j + 4 * L <= n; j += 4 * L) {                                         \
            SKLLOSS_ACCUMULATE(s0, q0, WITH_SQ, 0)                                   \
            SKLLOSS_ACCUMULATE(s1, q1, WITH_SQ, L)                                   \
            SKLLOSS_ACCUMULATE(s2, q2, WITH_SQ, 2 * L)                               \
            SKLLOSS_ACCUMULATE(s3, q3, WITH_SQ, 3 * L)                               \
        }                                                                            \
        for (; j + L <= n; j += L) {                                                 \
            SKLLOSS_ACCUMULATE(s0, q0, WITH_SQ, 0)                                   \
        }                                                                            \
        s0 = (s0 + s1) + (s2 + s3);                                                  \
        q0 = (q0 + q1) + (q2 + q3);                                                  \
        for (l = 0; l < L; l++) {                                                    \
            s += s0[l];                                                              \
            q += q0[l];                                                              \
        }                                                                            \
        for (; j < n; j++) {                                                         \
            s += w[j] * x[j];                                                        \
            if (WITH_SQ) q += x[j] * x[j];                                           \
        }                                                                            \
        if (WITH_SQ) *xsq = q;                                                       \
        return s;                                                                    \
    }
    SKLLOSS_DOT(sklloss_dot_d, double, sklloss_vd, 0)
    SKLLOSS_DOT(sklloss_dot_f, float, sklloss_vf, 0)
    SKLLOSS_DOT(sklloss_dot_sq_d, double, sklloss_vd, 1)
    SKLLOSS_DOT(sklloss_dot_sq_f, float, sklloss_vf, 1)
    #else
    #define SKLLOSS_DOT(NAME, T, WITH_SQ)                                            \
    static T NAME(const T *w, const T *x, Py_ssize_t n, T *xsq) {                    \
        T s = 0, q = 0;                                                              \
        for (Py_ssize_t j = 0; j < n; j++) {                                         \
            s += w[j] * x[j];                                                        \
            if (WITH_SQ) q += x[j] * x[j];                                           \
        }                                                                            \
        if (WITH_SQ) *xsq = q;                                                       \
        return s;                                                                    \
    }
    SKLLOSS_DOT(sklloss_dot_d, double, 0)
    SKLLOSS_DOT(sklloss_dot_f, float, 0)
    SKLLOSS_DOT(sklloss_dot_sq_d, double, 1)
    SKLLOSS_DOT(sklloss_dot_sq_f, float, 1)
    #endif
    SKLLOSS_CLONES static double sklloss_sum_d(const double *x, Py_ssize_t n) {
        double s = 0.0;
        #pragma omp simd reduction(+:s)
        for (Py_ssize_t j = 0; j < n; j++) s += x[j];
        return s;
    }
    SKLLOSS_CLONES static float sklloss_sum_f(const float *x, Py_ssize_t n) {
        float s = 0.0f;
        #pragma omp simd reduction(+:s)
        for (Py_ssize_t j = 0; j < n; j++) s += x[j];
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
