/* _weights.h: the C of _weights.pxd (declared there for Cython). */
#ifndef SKLLOSS_LINEAR_MODEL__WEIGHTS_H
#define SKLLOSS_LINEAR_MODEL__WEIGHTS_H

#include <Python.h>

#if defined(__GNUC__)
#define SKLLOSS_NOINLINE __attribute__((noinline))
#else
#define SKLLOSS_NOINLINE
#endif
SKLLOSS_NOINLINE static void sklloss_fold_scale_d(double *w, double *aw,
                                                  Py_ssize_t d, double wscale,
                                                  double avg_a, double avg_b) {
    Py_ssize_t j;
    if (aw != NULL)
        for (j = 0; j < d; j++) aw[j] = (aw[j] + avg_a * w[j]) / avg_b;
    for (j = 0; j < d; j++) w[j] = w[j] * wscale;
}
SKLLOSS_NOINLINE static void sklloss_fold_scale_f(float *w, float *aw,
                                                  Py_ssize_t d, double wscale,
                                                  double avg_a, double avg_b) {
    Py_ssize_t j;
    if (aw != NULL)
        for (j = 0; j < d; j++) aw[j] = (float)((aw[j] + avg_a * w[j]) / avg_b);
    for (j = 0; j < d; j++) w[j] = (float)(w[j] * wscale);
}

#endif  /* SKLLOSS_LINEAR_MODEL__WEIGHTS_H */
