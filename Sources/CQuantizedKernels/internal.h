// Shared by the kernel files; not part of the module's interface.
#ifndef BERTD_QUANTIZED_INTERNAL_H
#define BERTD_QUANTIZED_INTERNAL_H

#include <string.h>
#include "quantized_kernels.h"

void bq_gemm_scalar(const int8_t *a, size_t lda, int m, const int8_t *packed, int k,
                    int column_begin, int column_end, bq_output output);
void bq_gemm_avx2(const int8_t *a, size_t lda, int m, const int8_t *packed, int k,
                  int column_begin, int column_end, bq_output output);
void bq_gemm_avx512_vnni(const int8_t *a, size_t lda, int m, const int8_t *packed, const int32_t *colsums, int k,
                         int column_begin, int column_end, bq_output output);

void bq_quantize_rows_scalar(const float *x, size_t ldx, int m, int k, int8_t *q, size_t ldq, float *scales);
void bq_quantize_rows_avx2(const float *x, size_t ldx, int m, int k, int8_t *q, size_t ldq, float *scales);

/// The one formula every quantizer uses (so weights and activations, and every kernel, agree):
/// scale = amax / 127, q = rint(x · (127 / amax)) clamped to [-127, 127]; amax = 0 gives scale 0, q 0.
static inline float bq_inverse_scale(float amax) { return amax > 0 ? 127.0f / amax : 0.0f; }

/// Four int8 of a row as one int32 (any alignment; compiles to one load).
static inline int32_t load4(const int8_t *p) {
    int32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

#endif
