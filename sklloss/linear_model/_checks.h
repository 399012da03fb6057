/* _checks.h: the C of _checks.pyx (declared there for Cython). */
#ifndef SKLLOSS_LINEAR_MODEL__CHECKS_H
#define SKLLOSS_LINEAR_MODEL__CHECKS_H

#include <Python.h>

/* Sums in vector lanes (`omp simd reduction`, honoured with -fopenmp-simd): the
   order of the additions does not matter here, only whether the sum is finite. */
static double sklloss_sum_d(const double *x, Py_ssize_t n) {
    double s = 0.0;
    #pragma omp simd reduction(+:s)
    for (Py_ssize_t j = 0; j < n; j++) s += x[j];
    return s;
}
static double sklloss_sum_f(const float *x, Py_ssize_t n) {
    double s = 0.0;
    #pragma omp simd reduction(+:s)
    for (Py_ssize_t j = 0; j < n; j++) s += (double)x[j];
    return s;
}

#endif  /* SKLLOSS_LINEAR_MODEL__CHECKS_H */
