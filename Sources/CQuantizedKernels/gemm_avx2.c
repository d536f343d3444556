// The AVX2 GEMM: tiles of up to 4 rows × 16 columns (one packed block = 2 ymm of 8 int32 sums).
// vpmaddubsw multiplies unsigned by signed bytes and saturates its pair sums to int16, so the
// activations' signs are moved onto the weights (vpsignb) and their magnitudes (vpabsb) are the
// unsigned operand: with |a|, |w| ≤ 127 a pair sums to at most 2 · 127² = 32 258 < 32 767.
// vpmaddwd against ones then widens the pairs to int32.
#if defined(__x86_64__)
#include <immintrin.h>
#include "internal.h"

#define AVX2_INLINE static inline __attribute__((always_inline, target("avx2")))

// Writes one 8-column half of a tile row: columns col..col+7, those < column_end.
AVX2_INLINE void store_half(__m256i sums, int row, int col, int column_end, bq_output output) {
    const int valid = column_end - col;
    if (valid <= 0) return;
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(valid), lane);
    if (output.sums) {
        _mm256_maskstore_epi32((int *)(output.sums + (size_t)row * output.ld + col), mask, sums);
    } else {
        // (float)sum · row_scale · col_scale, in that order: the scalar kernel's arithmetic
        __m256 f = _mm256_mul_ps(_mm256_cvtepi32_ps(sums), _mm256_set1_ps(output.row_scales[row]));
        f = _mm256_mul_ps(f, _mm256_maskload_ps(output.col_scales + col, mask));
        _mm256_maskstore_ps(output.out + (size_t)row * output.ld + col, mask, f);
    }
}

// rows row0..row0+MR-1 × the 16 columns of the block at w (groups × 64 bytes).
AVX2_INLINE void tile(const int8_t *a, size_t lda, int row0, const int MR, const int8_t *w, int groups,
                      int col, int column_end, bq_output output) {
    const __m256i ones = _mm256_set1_epi16(1);
    __m256i acc[4][2];
    for (int i = 0; i < MR; i++) acc[i][0] = acc[i][1] = _mm256_setzero_si256();
    const int8_t *ar = a + (size_t)row0 * lda;
    for (int g = 0; g < groups; g++) {
        const __m256i w0 = _mm256_loadu_si256((const __m256i *)(w + g * 64));
        const __m256i w1 = _mm256_loadu_si256((const __m256i *)(w + g * 64 + 32));
        for (int i = 0; i < MR; i++) {
            // a[i, 4g..4g+3] in every lane
            const __m256i av = _mm256_set1_epi32(load4(ar + (size_t)i * lda + g * BQ_GROUP));
            const __m256i magnitude = _mm256_abs_epi8(av);
            const __m256i p0 = _mm256_maddubs_epi16(magnitude, _mm256_sign_epi8(w0, av));
            const __m256i p1 = _mm256_maddubs_epi16(magnitude, _mm256_sign_epi8(w1, av));
            acc[i][0] = _mm256_add_epi32(acc[i][0], _mm256_madd_epi16(p0, ones));
            acc[i][1] = _mm256_add_epi32(acc[i][1], _mm256_madd_epi16(p1, ones));
        }
    }
    for (int i = 0; i < MR; i++) {
        store_half(acc[i][0], row0 + i, col, column_end, output);
        store_half(acc[i][1], row0 + i, col + 8, column_end, output);
    }
}

__attribute__((target("avx2")))
void bq_gemm_avx2(const int8_t *a, size_t lda, int m, const int8_t *packed, int k,
                  int column_begin, int column_end, bq_output output) {
    const int groups = bq_padded_k(k) / BQ_GROUP;
    const size_t block_bytes = (size_t)groups * 64;
    // Row tiles outside, blocks inside: a tile's rows (≤ 4 × k bytes) stay in L1 while the
    // weights stream from L2 (MiniLM's largest, 1536 × 384 bytes, fits a Zen core's 512 KB–1 MB L2).
    for (int row = 0; row < m; row += 4) {
        const int mr = m - row < 4 ? m - row : 4;
        for (int col = column_begin; col < column_end; col += BQ_BLOCK_COLUMNS) {
            const int8_t *w = packed + (size_t)(col / BQ_BLOCK_COLUMNS) * block_bytes;
            switch (mr) {
            case 4: tile(a, lda, row, 4, w, groups, col, column_end, output); break;
            case 3: tile(a, lda, row, 3, w, groups, col, column_end, output); break;
            case 2: tile(a, lda, row, 2, w, groups, col, column_end, output); break;
            default: tile(a, lda, row, 1, w, groups, col, column_end, output); break;
            }
        }
    }
}
#endif
