/* _adaptive.h: the C of _adaptive.pxd (declared there for Cython). */
#ifndef SKLLOSS_LINEAR_MODEL__ADAPTIVE_H
#define SKLLOSS_LINEAR_MODEL__ADAPTIVE_H

#include <Python.h>

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define SKLLOSS_ADAGRAD_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define SKLLOSS_ADAGRAD_CLONES
#endif
#include <math.h>

/* One coordinate's update under an L2 (or no) penalty: the pending rows' penalty
   w' = w r0 / (r0 + pend) (w itself while r0 = 0: no step yet), the gradient step
   w' - eta a s / r and the row's penalty / (1 + cur / r), as one fraction.
   r0, r: the root of the sum of squared gradients before and after this row;
   step = eta a s; pend = k eta l2 for the k pending rows; cur = eta l2. */
static inline double sklloss_adagrad_l2(double w, double r0, double r, double step,
                                        double pend, double cur) {
    double A = r0 > 0.0 ? r0 * r : r;
    double B = r0 > 0.0 ? r0 + pend : 1.0;
    double updated = (w * A - step * B) / (B * (r + cur));
    return r > 0.0 ? updated : w;
}

/* sign(w) max(|w| - threshold, 0) */
static inline double sklloss_soft_threshold(double w, double threshold) {
    double m = fabs(w) - threshold;
    return copysign(m > 0.0 ? m : 0.0, w);
}

/* The same under an L1 or elastic-net penalty (l1u = l1 times the L1 threshold's
   units, 1 or 1 / s_j): the pending rows' proximal step at step eta / r0, then
   the gradient step and the row's own at eta / r. kpend = k eta. */
static inline double sklloss_adagrad_enet(double w, double r0, double r, double step,
                                          double kpend, double eta, double l1u,
                                          double l2) {
    double inv0 = r0 > 0.0 ? 1.0 / r0 : 0.0;
    double inv = r > 0.0 ? 1.0 / r : 0.0;
    double pending = sklloss_soft_threshold(w, kpend * inv0 * l1u)
                     / (1.0 + kpend * inv0 * l2);
    double updated = sklloss_soft_threshold(pending - step * inv, eta * inv * l1u)
                     / (1.0 + eta * inv * l2);
    return r > 0.0 ? updated : w;
}

/* A row's update of its n coordinates, contiguous (a dense row, or a sparse row's
   state gathered into buffers). inv_scale: NULL, or the normalised schedule's
   1 / s_j; aw: NULL, or the running-average record; kpend_each: NULL, or each
   coordinate's own k (its pending rows), else kpend = k eta for all; l1, l2: the
   penalty's strengths. The body is inlined once per combination of these options,
   so that each loop is branch-free and vectorised (its square roots and divisions
   four or eight at a time where the CPU has AVX2 or AVX-512); the arrays do not
   overlap. */
#define SKLLOSS_ADAGRAD_BODY_CALL(NAME, SCALED, AVERAGED, EACH, ENET)             \
    NAME##_body(w, aw, root, x, inv_scale, n, gradient, eta, kpend, kpend_each, \
                l1, l2, avg_a, SCALED, AVERAGED, EACH, ENET)
#define SKLLOSS_ADAGRAD_DENSE(NAME, T)                                            \
static inline __attribute__((always_inline)) void NAME##_body(                  \
        T *w, T *aw, double *root, const T *x, const double *inv_scale,         \
        Py_ssize_t n, double gradient, double eta, double kpend,                \
        const double *kpend_each, double l1, double l2, double avg_a,           \
        const int scaled, const int averaged, const int each, const int enet) { \
    double cur = eta * l2;                                                      \
    _Pragma("omp simd")                                                         \
    for (Py_ssize_t j = 0; j < n; j++) {                                        \
        double xj = x[j];                                                       \
        double inv = scaled ? inv_scale[j] : 1.0;                               \
        double s = scaled ? (xj != 0.0 ? inv : 0.0) : 1.0;                      \
        double a = gradient * xj * s;                                           \
        double r0 = root[j];                                                    \
        double r = sqrt(r0 * r0 + a * a);                                       \
        double old = w[j];                                                      \
        double kp = each ? kpend_each[j] * eta : kpend;                         \
        T updated = enet                                                        \
            ? (T)sklloss_adagrad_enet(old, r0, r, eta * a * s, kp, eta,         \
                                      l1 * inv, l2)                             \
            : (T)sklloss_adagrad_l2(old, r0, r, eta * a * s, kp * l2, cur);     \
        root[j] = r;                                                            \
        if (averaged) aw[j] = (T)(aw[j] - avg_a * ((double)updated - old));     \
        w[j] = updated;                                                         \
    }                                                                           \
}                                                                               \
SKLLOSS_ADAGRAD_CLONES static void NAME(                                        \
        T *w, T *aw, double *root, const T *x, const double *inv_scale,         \
        Py_ssize_t n, double gradient, double eta, double kpend,                \
        const double *kpend_each, double l1, double l2, double avg_a) {         \
    int which = (inv_scale != NULL) + 2 * (aw != NULL)                          \
                + 4 * (kpend_each != NULL) + 8 * (l1 > 0.0);                    \
    switch (which) {                                                            \
    case 0: SKLLOSS_ADAGRAD_BODY_CALL(NAME, 0, 0, 0, 0); break;                 \
    case 1: SKLLOSS_ADAGRAD_BODY_CALL(NAME, 1, 0, 0, 0); break;                 \
    case 2: SKLLOSS_ADAGRAD_BODY_CALL(NAME, 0, 1, 0, 0); break;                 \
    case 3: SKLLOSS_ADAGRAD_BODY_CALL(NAME, 1, 1, 0, 0); break;                 \
    case 4: SKLLOSS_ADAGRAD_BODY_CALL(NAME, 0, 0, 1, 0); break;                 \
    case 5: SKLLOSS_ADAGRAD_BODY_CALL(NAME, 1, 0, 1, 0); break;                 \
    case 6: SKLLOSS_ADAGRAD_BODY_CALL(NAME, 0, 1, 1, 0); break;                 \
    case 7: SKLLOSS_ADAGRAD_BODY_CALL(NAME, 1, 1, 1, 0); break;                 \
    case 8: SKLLOSS_ADAGRAD_BODY_CALL(NAME, 0, 0, 0, 1); break;                 \
    case 9: SKLLOSS_ADAGRAD_BODY_CALL(NAME, 1, 0, 0, 1); break;                 \
    case 10: SKLLOSS_ADAGRAD_BODY_CALL(NAME, 0, 1, 0, 1); break;                \
    case 11: SKLLOSS_ADAGRAD_BODY_CALL(NAME, 1, 1, 0, 1); break;                \
    case 12: SKLLOSS_ADAGRAD_BODY_CALL(NAME, 0, 0, 1, 1); break;                \
    case 13: SKLLOSS_ADAGRAD_BODY_CALL(NAME, 1, 0, 1, 1); break;                \
    case 14: SKLLOSS_ADAGRAD_BODY_CALL(NAME, 0, 1, 1, 1); break;                \
    default: SKLLOSS_ADAGRAD_BODY_CALL(NAME, 1, 1, 1, 1); break;                \
    }                                                                           \
}
SKLLOSS_ADAGRAD_DENSE(sklloss_adagrad_dense_d, double)
SKLLOSS_ADAGRAD_DENSE(sklloss_adagrad_dense_f, float)

/* A dense row's <w, x> and, in one pass, its ||x / s||^2 (x_j = 0 counts 0, also
   where s_j = 0) and whether some |x_j| exceeds its scale s_j. */
#define SKLLOSS_NORMALISED_DOT(NAME, T)                                           \
SKLLOSS_ADAGRAD_CLONES static T NAME(const T *w, const T *x,                    \
                                     const double *inv_scale, Py_ssize_t n,     \
                                     double *norm_out, int *grows) {            \
    T dot = 0;                                                                  \
    double norm = 0.0;                                                          \
    int any = 0;                                                                \
    _Pragma("omp simd reduction(+:dot, norm) reduction(|:any)")                 \
    for (Py_ssize_t j = 0; j < n; j++) {                                        \
        double xj = x[j];                                                       \
        double inv = inv_scale[j];                                              \
        double u = xj != 0.0 ? xj * inv : 0.0;                                  \
        any |= fabs(u) > 1.0;                                                   \
        norm += u * u;                                                          \
        dot += w[j] * x[j];                                                     \
    }                                                                           \
    *norm_out = norm;                                                           \
    *grows = any;                                                               \
    return dot;                                                                 \
}
SKLLOSS_NORMALISED_DOT(sklloss_normalised_dot_d, double)
SKLLOSS_NORMALISED_DOT(sklloss_normalised_dot_f, float)

#endif  /* SKLLOSS_LINEAR_MODEL__ADAPTIVE_H */
