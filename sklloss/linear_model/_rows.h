/* _rows.h: the C of _rows.pxd (declared there for Cython). */
#ifndef SKLLOSS_LINEAR_MODEL__ROWS_H
#define SKLLOSS_LINEAR_MODEL__ROWS_H

#include <Python.h>

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

#endif  /* SKLLOSS_LINEAR_MODEL__ROWS_H */
