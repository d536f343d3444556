// int8 kernels for bertd's opt-in int8 inference: symmetric quantization of weights (per output
// channel, at load time) and activations (per row, at run time), an int8 × int8 → int32 GEMM
// with the dequantization fused into its output stage.
//
// Three implementations of the GEMM, chosen at run time: AVX-512 VNNI (vpdpbusd), AVX2
// (vpmaddubsw + vpmaddwd) and portable C. All three return the same int32 sums (integer
// arithmetic is exact) and the same float outputs (the output stage is the same multiplications
// in the same order, without FMA), so a model gives bit-identical results on every x86 CPU.
#ifndef BERTD_QUANTIZED_KERNELS_H
#define BERTD_QUANTIZED_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    BQ_KERNEL_SCALAR = 0,
    BQ_KERNEL_AVX2 = 1,
    BQ_KERNEL_AVX512_VNNI = 2,
} bq_kernel;

/// Whether this CPU runs `kernel` (scalar: always).
int bq_kernel_available(bq_kernel kernel);
/// The fastest kernel this CPU runs.
bq_kernel bq_best_kernel(void);

/// Columns of one packed weight block, and the k values a lane holds.
#define BQ_BLOCK_COLUMNS 16
#define BQ_GROUP 4

/// k rounded up to a multiple of BQ_GROUP: the row length of quantized activations.
static inline int bq_padded_k(int k) { return (k + BQ_GROUP - 1) / BQ_GROUP * BQ_GROUP; }
/// n rounded up to a multiple of BQ_BLOCK_COLUMNS.
static inline int bq_padded_n(int n) { return (n + BQ_BLOCK_COLUMNS - 1) / BQ_BLOCK_COLUMNS * BQ_BLOCK_COLUMNS; }
/// Bytes of a packed (n, k) weight: padded_n × padded_k.
static inline size_t bq_packed_bytes(int n, int k) { return (size_t)bq_padded_n(n) * (size_t)bq_padded_k(k); }

/// q (n, k) = round(w / scale[row]), scale[row] = max|w[row, :]| / 127 (0 for an all-zero row);
/// w is (n, k) with row stride ldw, q is (n, k) dense. Round half to even.
void bq_quantize_weights(const float *w, size_t ldw, int n, int k, int8_t *q, float *scales);

/// Packs q (n, k) (entries in [-127, 127], row stride ldq) for the GEMM: block b of 16 output
/// columns is padded_k/4 groups of 64 bytes, group g holding q[16b + c][4g + t] at byte 4c + t
/// (zeros past n and k). colsums (padded_n) receives each column's sum of q, which the VNNI
/// kernel needs to undo its +128 offset of the activations.
void bq_pack_weights(const int8_t *q, size_t ldq, int n, int k, int8_t *packed, int32_t *colsums);

/// Per row r of x (m, k), stride ldx: scale[r] = max|x[r, :]| / 127, q[r, c] = round(x / scale)
/// in [-127, 127] (round half to even), zeros in columns k..<padded_k. q has row stride ldq ≥ padded_k.
void bq_quantize_rows(bq_kernel kernel, const float *x, size_t ldx, int m, int k, int8_t *q, size_t ldq,
                      float *scales);

/// Where the GEMM writes: raw int32 sums, or out[i, j] = (float)sum · row_scales[i] · col_scales[j].
typedef struct {
    int32_t *sums;          // (m, n) with row stride ld, or NULL
    float *out;             // (m, n) with row stride ld, when sums is NULL
    size_t ld;
    const float *row_scales;  // (m)
    const float *col_scales;  // (n)
} bq_output;

/// sums[i, j] = Σ_k a[i, k] · w[j, k] for rows 0..<m and columns column_begin..<column_end.
/// a is (m, padded_k) int8 with row stride lda (columns past k zero, as bq_quantize_rows writes
/// them), entries in [-127, 127]; packed and colsums as bq_pack_weights made them for (n, k).
/// column_begin is a multiple of 16; column_end is a multiple of 16 or n.
void bq_gemm(bq_kernel kernel, const int8_t *a, size_t lda, int m,
             const int8_t *packed, const int32_t *colsums, int n, int k,
             int column_begin, int column_end, bq_output output);

#ifdef __cplusplus
}
#endif

#endif
