// The portable GEMM over the packed layout: the reference every CPU can run, and the fallback.
#include "internal.h"

void bq_gemm_scalar(const int8_t *a, size_t lda, int m, const int8_t *packed, int k,
                    int column_begin, int column_end, bq_output output) {
    const int groups = bq_padded_k(k) / BQ_GROUP;
    for (int i = 0; i < m; i++) {
        const int8_t *ai = a + (size_t)i * lda;
        for (int j = column_begin; j < column_end; j++) {
            const int8_t *w = packed + (size_t)(j / BQ_BLOCK_COLUMNS) * groups * 64 + (j % BQ_BLOCK_COLUMNS) * BQ_GROUP;
            int32_t sum = 0;
            for (int g = 0; g < groups; g++)
                for (int t = 0; t < BQ_GROUP; t++) sum += (int32_t)ai[g * BQ_GROUP + t] * (int32_t)w[g * 64 + t];
            if (output.sums) {
                output.sums[(size_t)i * output.ld + j] = sum;
            } else {
                output.out[(size_t)i * output.ld + j] = (float)sum * output.row_scales[i] * output.col_scales[j];
            }
        }
    }
}
