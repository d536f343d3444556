// The AVX-512 VNNI GEMM: tiles of up to 6 rows × 64 columns (4 packed blocks of 16 int32 sums:
// 24 accumulators of the 32 zmm registers). vpdpbusd multiplies unsigned by signed bytes and
// adds each lane's 4 products into int32 without saturating, so the activations are offset by
// +128 to unsigned (a xor of the sign bit) and 128 · Σ_k w[j, k] is subtracted at the end:
// Σ (a + 128) · w − 128 · Σ w = Σ a · w, exact in wrapping int32 arithmetic.
#if defined(__x86_64__)
#include <immintrin.h>
#include "internal.h"

#define VNNI_TARGET "avx512f,avx512bw,avx512vnni"
#define VNNI_INLINE static inline __attribute__((always_inline, target(VNNI_TARGET)))

// Writes 16 columns col..col+15 of one tile row, those < column_end.
VNNI_INLINE void store_block(__m512i sums, const int32_t *colsums, int row, int col, int column_end, bq_output output) {
    const int valid = column_end - col;
    const __mmask16 mask = valid >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << valid) - 1);
    sums = _mm512_sub_epi32(sums, _mm512_slli_epi32(_mm512_loadu_si512(colsums + col), 7));
    if (output.sums) {
        _mm512_mask_storeu_epi32(output.sums + (size_t)row * output.ld + col, mask, sums);
    } else {
        // (float)sum · row_scale · col_scale, in that order: the scalar kernel's arithmetic
        __m512 f = _mm512_mul_ps(_mm512_cvtepi32_ps(sums), _mm512_set1_ps(output.row_scales[row]));
        f = _mm512_mul_ps(f, _mm512_maskz_loadu_ps(mask, output.col_scales + col));
        _mm512_mask_storeu_ps(output.out + (size_t)row * output.ld + col, mask, f);
    }
}

// rows row0..row0+MR-1 × NB blocks starting at column col (block b's bytes at w + b · block_bytes).
VNNI_INLINE void tile(const int8_t *a, size_t lda, int row0, const int MR, const int NB,
                      const int8_t *w, size_t block_bytes, int groups, const int32_t *colsums,
                      int col, int column_end, bq_output output) {
    const __m512i offset = _mm512_set1_epi8((char)0x80);
    __m512i acc[6][4];
    for (int i = 0; i < MR; i++)
        for (int b = 0; b < NB; b++) acc[i][b] = _mm512_setzero_si512();
    const int8_t *ar = a + (size_t)row0 * lda;
    for (int g = 0; g < groups; g++) {
        __m512i wv[4];
        for (int b = 0; b < NB; b++) wv[b] = _mm512_loadu_si512(w + b * block_bytes + (size_t)g * 64);
        for (int i = 0; i < MR; i++) {
            // a[i, 4g..4g+3] + 128 in every lane
            const __m512i av = _mm512_xor_si512(_mm512_set1_epi32(load4(ar + (size_t)i * lda + g * BQ_GROUP)), offset);
            for (int b = 0; b < NB; b++) acc[i][b] = _mm512_dpbusd_epi32(acc[i][b], av, wv[b]);
        }
    }
    for (int i = 0; i < MR; i++)
        for (int b = 0; b < NB; b++) store_block(acc[i][b], colsums, row0 + i, col + 16 * b, column_end, output);
}

// One row tile over all blocks of the range: 4 blocks at a time, then the last 1–3 one by one.
VNNI_INLINE void row_tile(const int8_t *a, size_t lda, int row, const int MR, const int8_t *packed, size_t block_bytes,
                          int groups, const int32_t *colsums, int column_begin, int column_end, bq_output output) {
    int col = column_begin;
    for (; col + 64 <= column_end; col += 64)
        tile(a, lda, row, MR, 4, packed + (size_t)(col / 16) * block_bytes, block_bytes, groups, colsums, col, column_end, output);
    for (; col < column_end; col += 16)
        tile(a, lda, row, MR, 1, packed + (size_t)(col / 16) * block_bytes, block_bytes, groups, colsums, col, column_end, output);
}

__attribute__((target(VNNI_TARGET)))
void bq_gemm_avx512_vnni(const int8_t *a, size_t lda, int m, const int8_t *packed, const int32_t *colsums, int k,
                         int column_begin, int column_end, bq_output output) {
    const int groups = bq_padded_k(k) / BQ_GROUP;
    const size_t block_bytes = (size_t)groups * 64;
    // Row tiles outside, blocks inside: a tile's rows (≤ 6 × k bytes) stay in L1 while the
    // weights stream from L2 (MiniLM's largest, 1536 × 384 bytes, fits a Zen 4 core's 1 MB L2).
    for (int row = 0; row < m; row += 6) {
        switch (m - row < 6 ? m - row : 6) {
        case 6: row_tile(a, lda, row, 6, packed, block_bytes, groups, colsums, column_begin, column_end, output); break;
        case 5: row_tile(a, lda, row, 5, packed, block_bytes, groups, colsums, column_begin, column_end, output); break;
        case 4: row_tile(a, lda, row, 4, packed, block_bytes, groups, colsums, column_begin, column_end, output); break;
        case 3: row_tile(a, lda, row, 3, packed, block_bytes, groups, colsums, column_begin, column_end, output); break;
        case 2: row_tile(a, lda, row, 2, packed, block_bytes, groups, colsums, column_begin, column_end, output); break;
        default: row_tile(a, lda, row, 1, packed, block_bytes, groups, colsums, column_begin, column_end, output); break;
        }
    }
}
#endif
