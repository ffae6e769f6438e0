// The few CBLAS/OpenBLAS entry points meow uses, as function-pointer types.
//
// OpenBLAS picks its kernels when the library is loaded, reading
// OPENBLAS_CORETYPE at that moment. A link-time dependency loads it before
// main() runs, too early to choose the kernel from inside the program, so the
// Tensor module dlopen()s libopenblas at start-up and resolves these symbols
// itself (OpenBLAS 0.3.21 silently falls back to its slow Prescott kernels on CPUs it does not recognise). Nothing here links a library.
#ifndef MEOW_CBLAS_SHIM_H
#define MEOW_CBLAS_SHIM_H

enum MeowCBLASOrder { MeowCblasRowMajor = 101, MeowCblasColMajor = 102 };
enum MeowCBLASTranspose { MeowCblasNoTrans = 111, MeowCblasTrans = 112 };

typedef void (*meow_cblas_sgemm_fn)(int order, int transA, int transB,
                                    int m, int n, int k, float alpha,
                                    const float *a, int lda,
                                    const float *b, int ldb, float beta,
                                    float *c, int ldc);
typedef void (*meow_cblas_dgemm_fn)(int order, int transA, int transB,
                                    int m, int n, int k, double alpha,
                                    const double *a, int lda,
                                    const double *b, int ldb, double beta,
                                    double *c, int ldc);
typedef void (*meow_openblas_set_num_threads_fn)(int);
typedef char *(*meow_openblas_get_corename_fn)(void);
typedef char *(*meow_openblas_get_config_fn)(void);

#endif
