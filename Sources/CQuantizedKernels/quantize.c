// Quantization at load time (weights, per output channel) and its portable per-row version for
// activations; packing of the weights into the GEMM's block layout.
#include <math.h>
#include <string.h>
#include "internal.h"

// q (k) = round(x (k) / scale), *scale = max|x| / 127.
static void quantize_row(const float *x, int k, int8_t *q, float *scale) {
    float amax = 0;
    for (int c = 0; c < k; c++) amax = fmaxf(amax, fabsf(x[c]));
    const float inverse = bq_inverse_scale(amax);
    for (int c = 0; c < k; c++) {
        float r = rintf(x[c] * inverse);  // the current rounding mode: to nearest, ties to even
        r = r > 127 ? 127 : (r < -127 ? -127 : r);
        q[c] = (int8_t)r;
    }
    *scale = amax / 127.0f;
}

void bq_quantize_weights(const float *w, size_t ldw, int n, int k, int8_t *q, float *scales) {
    for (int r = 0; r < n; r++) quantize_row(w + (size_t)r * ldw, k, q + (size_t)r * k, scales + r);
}

void bq_quantize_rows_scalar(const float *x, size_t ldx, int m, int k, int8_t *q, size_t ldq, float *scales) {
    const int kp = bq_padded_k(k);
    for (int r = 0; r < m; r++) {
        int8_t *qr = q + (size_t)r * ldq;
        quantize_row(x + (size_t)r * ldx, k, qr, scales + r);
        memset(qr + k, 0, (size_t)(kp - k));
    }
}

void bq_pack_weights(const int8_t *q, size_t ldq, int n, int k, int8_t *packed, int32_t *colsums) {
    const int kp = bq_padded_k(k), np = bq_padded_n(n), groups = kp / BQ_GROUP;
    for (int j = 0; j < np; j++) {
        const int block = j / BQ_BLOCK_COLUMNS, lane = j % BQ_BLOCK_COLUMNS;
        int32_t sum = 0;
        for (int c = 0; c < kp; c++) {
            const int8_t v = (j < n && c < k) ? q[(size_t)j * ldq + c] : 0;
            const int g = c / BQ_GROUP, t = c % BQ_GROUP;
            packed[((size_t)block * groups + g) * 64 + lane * BQ_GROUP + t] = v;
            sum += v;
        }
        colsums[j] = sum;
    }
}
