// int8 convolution as GEMM on x86 CPUs with AVX-512 VNNI, for Intel's CPU OpenCL runtime.
// Same coverage and NHWC layout as conv_gemm_dot.cl for one group (1x1, KxK, fully connected),
// and for grouped layers (AlexNet's, ShuffleNet's), each group's channels in whole blocks.
//
// OpenCL C has no 512-bit integer dot product, and the runtime's compiler turns the
// plain dot loop of conv_gemm_dot.cl into the 128-bit vpdpbusd at best.  This kernel calls
// the 512-bit instruction itself (vnni.cl):
//
//   VNNI(acc, a, w): acc[l] += sum_{i<4} (uint)a.byte[4l+i] * (int)w.byte[4l+i], l < 16
//
// Lanes are 16 output channels; a is four consecutive input bytes of one pixel broadcast
// to every lane, w the 16 channels' four matching weights.  So one instruction adds four
// terms to 16 outputs, the sums need no horizontal reduction, and the 16 channels of a
// pixel come out together for a vector epilogue and store.  int32 accumulation is exact.
//
// Reads: k runs over the kernel rows (kh), and within a row over its KW*CIN (kw, ci) terms
// as ROW_WORDS words, zero-padded at the row's end (the weights hold zeros there too).  Where
// the whole row lies inside the input and taps are adjacent (DW=1) those terms are one
// stretch of NHWC bytes, read as words (vload4: any alignment).  Otherwise (borders,
// dilation) each word is read from its tap, a padding tap reading the zero point (pad_row):
// wider taps (CIN_G a multiple of 4 over 16) one run of words each, narrower a word at a time
// (gathered byte by byte where CIN_G is not a multiple of 4).  Where rows do not end on a
// word (a stem's 3 channels) and WINDOW_WORDS is set, a tile whose windows lie inside the
// input reads each as one run of WINDOW_WORDS words over all its rows instead, against
// weights packed the same way (W_WINDOW), padded only at the window's end.  Signed activations
// (ACT_FLIP=1) are read with the sign bits flipped, x + 128; the host takes 128 * sum(w[c])
// off comp[c].
//
// Layouts: x NHWC (ACT_T), y NHWC (OUT_T) unless OUT_ROW/OUT_COL/OUT_CH say otherwise (see
// below); weights [COUT_P/(16 TNB)][KH*ROW_WORDS][TNB][16][4] int8, channels zero-padded to
// COUT_P, and with HALF [KH*ROW_WORDS][8][4] after them for the last 8.
// GEMM channels: a grouped layer's groups of COUT_G channels each take COUT_GP (a multiple of
// 16 TNB; ShuffleNet's 34 -> 48): GEMM channel c is layer channel LAYER_CH(c), or none where
// it pads its group.  comp is in GEMM channels; mscale, bias and the epilogue's constants in
// layer channels.
// Work-item: TM pixels x TNB*16 (+8 with HALF) channels, global = (COUT_P/(16 TNB) or 1 with
// HALF, ceil(M/TM)), or those two swapped with TILES_FIRST=1.
//
// Build-time macros: as conv_gemm_portable.cl plus TM, TNB, HALF, ACT_FLIP, WINDOW_WORDS,
// TILES_FIRST.

#include "requant.cl"
#include "conv_params.cl"
#include "conv_tile.cl"

#include "vnni.cl"
#include "requant16.cl"

#ifndef COUT_GP
#define COUT_GP COUT_G
#endif
// the layer channels of GEMM channel c and those after it in its group (<= 0: c pads the
// layer, or its group)
#if COUT_GP != COUT_G
#define LAYER_CH(c) ((c) / COUT_GP * COUT_G + (c) % COUT_GP)
#define GROUP_LEFT(c) (COUT_G - (c) % COUT_GP)
#else
#define LAYER_CH(c) (c)
#define GROUP_LEFT(c) (COUT - (c))
#endif
#define GEMM_COUT (COUT / COUT_G * COUT_GP)

#define ROW_BYTES (KW * CIN_G)
#define ROW_WORDS ((ROW_BYTES + 3) / 4)
#define K4 (KH * ROW_WORDS)
// HALF: the work-item's channels end with a block of at most 8 on 8 lanes (256-bit vpdpbusd,
// half the work of a padded 16-lane block), after TNB full blocks; then the grid has one
// column of channel blocks
#ifndef HALF
#define HALF 0
#endif
#define NB (TNB * 16 + HALF * 8)
#ifndef WINDOW_WORDS  // whole windows as one run of words (below); 0: row by row only
#define WINDOW_WORDS 0
#endif
#ifndef TILES_FIRST
#define TILES_FIRST 0
#endif
// array length for TNB blocks: with none (at most 8 channels, HALF only) one unused element
#define TNB_ARR (TNB > 0 ? TNB : 1)

#if ACT_FLIP
#define ACT_WORD(v) ((int)((v) ^ 0x80808080u))
#else
#define ACT_WORD(v) ((int)(v))
#endif

// word k of a kernel row read in place from p: four bytes, or the last ones zero-extended
inline uint run_word(const __global uchar *p, int k)
{
    if (k < ROW_BYTES / 4)
        return as_uint(vload4(k, p));
    uint v = 0;
    for (int i = 0; i < ROW_BYTES % 4; ++i)
        v |= (uint)p[4 * k + i] << (8 * i);
    return v;
}

// word k of a kernel row whose taps start at iw0 in input row p (NULL: above or below the input)
inline uint edge_word(const __global uchar *p, int iw0, const __global uchar *pad_row, int k)
{
#if CIN_G % 4 == 0  // the word lies inside one tap
    const int kw = 4 * k / CIN_G, iw = iw0 + kw * DW;
    const bool inside = p && iw >= 0 && iw < IW;
    return as_uint(vload4(0, (inside ? p + iw * C : pad_row) + 4 * k - kw * CIN_G));
#else
    uint v = 0;
    for (int i = 0; i < 4 && 4 * k + i < ROW_BYTES; ++i) {
        const int kw = (4 * k + i) / CIN_G, ci = 4 * k + i - kw * CIN_G, iw = iw0 + kw * DW;
        const bool inside = p && iw >= 0 && iw < IW;
        v |= (uint)(inside ? p[iw * C + ci] : pad_row[ci]) << (8 * i);
    }
    return v;
#endif
}

// word k of a whole window read as one run of bytes over its KH rows of ROW_BYTES bytes, the
// rows WINDOW_STEP bytes apart from p (WINDOW_WORDS): a word ending a row takes its first
// bytes from that row's last word (read backwards, so nothing past the window is read) and
// the rest from the next row's first word; the window's last word is zero-extended.  k is
// a constant once the loop is unrolled, and so are the branches.
#define WINDOW_STEP (DH * IW * C)
inline uint window_word(const __global uchar *p, int k)
{
    const int row = 4 * k / ROW_BYTES, at = 4 * k - row * ROW_BYTES;
    const __global uchar *q = p + row * WINDOW_STEP;
    if (at + 4 <= ROW_BYTES)
        return as_uint(vload4(0, q + at));
    const int n = ROW_BYTES - at;  // 1 to 3 bytes left in this row
    uint v = as_uint(vload4(0, q + ROW_BYTES - 4)) >> (8 * (4 - n));
    if (row + 1 < KH)
        v |= as_uint(vload4(0, q + WINDOW_STEP)) << (8 * n);
    return v;
}

// acc[r][b] (and acc_h[r]) += N words of the rows (WORD(r, k), k < N) times the weight words
// K0 + k at wk (and wkh)
#if HALF
#define VNNI_HALF_LOAD(k) const int8 wh = wkh[k];
#define VNNI_HALF(r) acc_h[r] = VNNI8(acc_h[r], av.lo, wh);
#else
#define VNNI_HALF_LOAD(k)
#define VNNI_HALF(r)
#endif
#define VNNI_WORDS(K0, N, WORD) VNNI_WORDS_LOOP(, K0, N, WORD)
#define VNNI_WORDS_LOOP(PRAGMA, K0, N, WORD)                           \
    PRAGMA for (int k = 0; k < (N); ++k) {                             \
        int16 wv[TNB_ARR];                                             \
        _Pragma("unroll") for (int b = 0; b < TNB; ++b)                \
            wv[b] = wk[((K0) + k) * TNB + b];                          \
        VNNI_HALF_LOAD((K0) + k)                                       \
        _Pragma("unroll") for (int r = 0; r < TM; ++r) {               \
            const int16 av = (int16)(ACT_WORD(WORD(r, k)));            \
            _Pragma("unroll") for (int b = 0; b < TNB; ++b)            \
                acc[r][b] = VNNI(acc[r][b], av, wv[b]);                \
            VNNI_HALF(r)                                               \
        }                                                              \
    }
#define RUN_WORD(r, k) run_word(a[r], k)
#define WINDOW_WORD(r, k) window_word(a[r], k)
#define EDGE_WORD(r, k) edge_word(a[r], iw0[r], (const __global uchar *)pad_row, k)
#define TAP_WORD(r, k) as_uint(vload4(k, tap[r]))

// Where GEMM row m (pixel), channel c is stored, OUT_ROW(m) + OUT_COL(c), and which output
// channel (index of the per-channel constants) it is: by default row-major NHWC.  A
// deconvolution whose stride equals its kernel (a 1x1 GEMM to KH*KW*Cout tap-major channels,
// Cout % 8 == 0) defines all three to send each tap's channels straight to their output
// pixel, 8 at a time.
#ifndef OUT_ROW
#define OUT_ROW(m) ((size_t)(m) * COUT)
#define OUT_COL(c) (c)
#define OUT_CH(c) (c)
#define OUT_ROW_MAJOR 1
#else
#define OUT_ROW_MAJOR 0
#endif

// One output value (returned), and 8 and 16 of them from layer channel c on (stored at offset
// off, channels c+8.. at off8): requantized, raw, or through the step's epilogue
#if OUT_MODE == 3
#define STORE_ONE(v, c, off) EPI_STORE(v, OUT_CH(c), off)
#define STORE8(v, c, off) EPI_STORE8(v, OUT_CH(c), off)
#define STORE4(v, c, off) EPI_STORE4(v, OUT_CH(c), off)
#else
#define STORE_ONE(v, c, off) rq_out(v, mscale[OUT_CH(c)], bias[OUT_CH(c)], lo, hi)
#endif
#if OUT_MODE == 0
#define STORE8(v, c, off) vstore8(CONVERT_OUT8(rq_round_clamp8(rq_affine8(v, vload8(0, mscale + OUT_CH(c)), \
    vload8(0, bias + OUT_CH(c))), lo, hi)), 0, y + (off))
#define STORE4(v, c, off) vstore4(CONVERT_OUT4(rq_round_clamp4(rq_affine4(v, vload4(0, mscale + OUT_CH(c)), \
    vload4(0, bias + OUT_CH(c))), lo, hi)), 0, y + (off))
#endif
#if OUT_ROW_MAJOR && OUT_MODE == 3 && defined(EPI_STORE16)
#define STORE16(v, c, off, off8) EPI_STORE16(v, c, off)
#elif OUT_ROW_MAJOR && OUT_MODE == 0
// 16 channels in one zmm each step (the 8-wide helpers of requant.cl serve PoCL too)
#define STORE16(v, c, off, off8) vstore16(CONVERT_OUT16(rq_round_clamp16( \
    rq_affine16(v, vload16(0, mscale + (c)), vload16(0, bias + (c))), lo, hi)), 0, y + (off))
#elif OUT_ROW_MAJOR && OUT_MODE == 1
#define STORE16(v, c, off, off8) vstore16(v, 0, y + (off))
#elif (OUT_MODE == 3 && defined(EPI_STORE8)) || OUT_MODE == 0
#define STORE16(v, c, off, off8) do { STORE8((v).lo, c, off); STORE8((v).hi, (c) + 8, off8); } while (0)
#else
#define STORE16(v, c, off, off8) do { int t_[16]; vstore16(v, 0, t_); size_t row_ = (off) - OUT_COL(c); \
    for (int j_ = 0; j_ < 16; ++j_) { const size_t o_ = row_ + OUT_COL((c) + j_); \
        y[o_] = STORE_ONE(t_[j_], (c) + j_, o_); } } while (0)
#endif
// whether STORE8 and STORE4 can store 8 and 4 channels at once (a fused epilogue may come
// without those forms)
#if OUT_MODE == 0 || (OUT_MODE == 3 && defined(EPI_STORE8))
#define HAS_STORE8 1
#else
#define HAS_STORE8 0
#endif
#if OUT_MODE == 0 || (OUT_MODE == 3 && defined(EPI_STORE4))
#define HAS_STORE4 1
#else
#define HAS_STORE4 0
#endif
// a group's (with HALF, the layer's) last PART channels (fewer than 16) of a row, from the int
// array t of their sums with comp, from layer channel lc: 8 and 4 at once where the store mode
// can, then one at a time
#define PART (COUT_G % 16)
#if HAS_STORE8 && PART >= 8
#define PART_STORE8(t, lc, row, j) STORE8(vload8(0, t), lc, (row) + OUT_COL(lc)); j = 8;
#else
#define PART_STORE8(t, lc, row, j)
#endif
#if HAS_STORE4 && PART % 8 >= 4
#define PART_STORE4(t, lc, row, j) STORE4(vload4(0, (t) + j), (lc) + j, (row) + OUT_COL((lc) + j)); j += 4;
#else
#define PART_STORE4(t, lc, row, j)
#endif
#define STORE_PART(t, lc, row) do {                                                      \
    int j_ = 0;                                                                          \
    PART_STORE8(t, lc, row, j_)                                                          \
    PART_STORE4(t, lc, row, j_)                                                          \
    for (; j_ < PART; ++j_) {                                                            \
        const size_t o_ = (row) + OUT_COL((lc) + j_);                                    \
        y[o_] = STORE_ONE((t)[j_], (lc) + j_, o_);                                       \
    }                                                                                    \
} while (0)

__attribute__((intel_reqd_sub_group_size(1)))  // lanes are channels, not work-items
// restrict: y is no input's buffer (a step's inputs and outputs live at once in a plan); with
// the compiler free to keep loads across stores, a residual epilogue's store loop (affine,
// relu, add) took 64 -> 256 1x1 at 56x56 from 0.154 to 0.104 ms
__kernel void conv_gemm_vnni(__global const ACT_T *restrict x,      // [N][IH][IW][C]
                             __global const uchar *restrict params, // see conv_params.cl
                             __global OUT_T *restrict y,            // [N][OH][OW][COUT]
                             int M, int lo, int hi EPI_ARGS)
{
    CONV_PARAMS(int16)  // w: [COUT_P/NB][K4][TNB] x 64 bytes (HALF: then [K4] x 32)
#if TILES_FIRST  // the grid is (row tiles, channel blocks)
    const int nb = get_global_id(1);
    const int m0 = get_global_id(0) * TM;
#else
    const int nb = get_global_id(0);
    const int m0 = get_global_id(1) * TM;
#endif
    if (m0 >= M || nb * NB >= GEMM_COUT)
        return;

    // a grouped layer's blocks tile each group's GEMM channels (COUT_GP a multiple of 16 TNB),
    // so block nb starts at GEMM channel nb * NB either way; its group's input channels follow
    const int group = nb * NB / COUT_GP;
    int in_base[TM], ih0[TM], iw0[TM];
    CONV_TILE_ORIGINS(m0, group, in_base, ih0, iw0)

    int16 acc[TM][TNB_ARR];
    for (int r = 0; r < TM; ++r)
        for (int b = 0; b < TNB; ++b)
            acc[r][b] = 0;
#if HALF
    int8 acc_h[TM];
    for (int r = 0; r < TM; ++r)
        acc_h[r] = 0;
    const __global int8 *wkh = (const __global int8 *)(w + K4 * TNB);
#endif

#if OUT_ROW_MAJOR && defined(EPI_PREFETCH)
    // the epilogue's operands (a residual branch) at the tile's pixels, asked for before the
    // reduction so they arrive while it runs: the branch was stored a few layers back and may
    // have left the caches (ResNet-50's 128 -> 512 1x1 + add at 28x28: 0.13 -> 0.10 ms where
    // the caches were shared; no change where they held it).  Prefetching the output's lines
    // as well made every layer slower.  Only the layer's channels: a padded group's block
    // can reach past the last one.
    for (int r = 0; r < TM && m0 + r < M; ++r)
        EPI_PREFETCH((size_t)(m0 + r) * COUT + LAYER_CH(nb * NB), min(NB, COUT - LAYER_CH(nb * NB)));
#endif
    const __global uchar *a[TM];
#if WINDOW_WORDS
    // every pixel's whole window inside the input: WINDOW_WORDS words each (weights W_WINDOW,
    // packed the same way); a tile touching the padding reads row by row below
    bool inside = true;
    for (int r = 0; r < TM; ++r)
        inside = inside && ih0[r] >= 0 && ih0[r] + (KH - 1) * DH < IH && iw0[r] >= 0 && iw0[r] + KW - 1 < IW;
    if (inside) {
        const __global int16 *wk = (const __global int16 *)(params + W_WINDOW_AT) + (size_t)nb * WINDOW_WORDS * TNB;
#if HALF
        wkh = (const __global int8 *)(wk + WINDOW_WORDS * TNB);
#endif
        for (int r = 0; r < TM; ++r)
            a[r] = (const __global uchar *)(x + in_base[r] + (ih0[r] * IW + iw0[r]) * C);
        VNNI_WORDS_LOOP(_Pragma("unroll"), 0, WINDOW_WORDS, WINDOW_WORD);
    } else
#endif
    {
        const __global int16 *wk = w + (size_t)nb * K4 * TNB;
        for (int kh = 0; kh < KH; ++kh) {
            // every row's taps inside the input: one stretch of bytes each (not with several
            // groups: a tap's channels of the group are CIN_G of the pixel's C)
            bool run = DW == 1 && (KW == 1 || CIN_G == C);
            for (int r = 0; r < TM; ++r) {
                const int ih = ih0[r] + kh * DH;
                const bool row_in = ih >= 0 && ih < IH;
                run = run && row_in && iw0[r] >= 0 && iw0[r] + KW - 1 < IW;
                a[r] = row_in ? (const __global uchar *)(x + in_base[r] + ih * IW * C) : 0;
            }
            if (run) {
                for (int r = 0; r < TM; ++r)
                    a[r] += iw0[r] * C;
                VNNI_WORDS(0, ROW_WORDS, RUN_WORD);
            } else {
#if CIN_G % 4 == 0 && CIN_G > 16
                // tap by tap: each row's tap inside the input, or the zero point's row, is a run of
                // CIN_G / 4 words (a tile touching a border of a 7x7 or 14x14 layer is most tiles;
                // 160 -> 160 3x3 at 14x14: 0.097 -> 0.055 ms).  Up to 16 channels the word-by-word
                // loop is faster (16 -> 64 at 55x55: 0.047 against 0.097 ms)
                for (int kw = 0; kw < KW; ++kw) {
                    const __global uchar *tap[TM];
#pragma unroll
                    for (int r = 0; r < TM; ++r) {
                        const int iw = iw0[r] + kw * DW;
                        tap[r] = a[r] && iw >= 0 && iw < IW ? a[r] + iw * C : (const __global uchar *)pad_row;
                    }
                    VNNI_WORDS(kw * (CIN_G / 4), CIN_G / 4, TAP_WORD);
                }
#else
                VNNI_WORDS(0, ROW_WORDS, EDGE_WORD);
#endif
            }
            wk += ROW_WORDS * TNB;
#if HALF
            wkh += ROW_WORDS;
#endif
        }
    }

    // The sums leave the registers once, for an epilogue loop that is not unrolled: its code
    // appears once instead of TM*TNB times (compile time).  Nothing indexes acc at run time,
    // which would keep it in memory during the loop above.
    int16 sums[TM * TNB_ARR];
#pragma unroll
    for (int r = 0; r < TM; ++r)
#pragma unroll
        for (int b = 0; b < TNB; ++b)
            sums[r * TNB + b] = acc[r][b];
#if OUT_ROW_MAJOR
#define ROW_OF(r) ((size_t)(m0 + (r)) * COUT)
#define COL_OF(h) ((size_t)LAYER_CH(nb * NB + (h) * 8))
#else
    // where each row and each 8 channels go, computed once: a scattered deconvolution's
    // offsets take several divisions (det's 24-channel 2x2 one: 0.86 -> 0.65 ms)
    size_t rows[TM], cols[2 * TNB_ARR];
#pragma unroll
    for (int r = 0; r < TM; ++r)
        rows[r] = OUT_ROW(m0 + r);
#pragma unroll
    for (int h = 0; h < 2 * TNB; ++h)
        cols[h] = OUT_COL(LAYER_CH(nb * NB + h * 8));
#define ROW_OF(r) rows[r]
#define COL_OF(h) cols[h]
#endif
#if TNB  // the full blocks (none where HALF holds all channels)
#if OUT_ROW_MAJOR
#pragma nounroll
    for (int q = 0; q < TM * TNB; ++q) {
        const int r = q / TNB, b = q - r * TNB;
#else  // blocks unrolled: each one's channel offsets become constants (det's deconvolution 0.63 ->
       // 0.44 ms; row-major layers lose by it: ResNet-50 11.3 -> 11.65 ms)
#pragma nounroll
    for (int r = 0; r < TM; ++r)
#pragma unroll
    for (int b = 0; b < TNB; ++b) {
        const int q = r * TNB + b;
#endif
        const int c = nb * NB + b * 16, lc = LAYER_CH(c);
        const int m = m0 + r;
        const size_t row = ROW_OF(r);
        if (m < M && GROUP_LEFT(c) >= 16) {
            STORE16(sums[q] + vload16(0, comp + c), lc, row + COL_OF(2 * b), row + COL_OF(2 * b + 1));
        }
#if PART && !HALF
        else if (m < M && GROUP_LEFT(c) > 0) {  // a group's last channels
            int t[16];
            vstore16(sums[q] + vload16(0, comp + c), 0, t);
            STORE_PART(t, lc, row);
        }
#endif
    }
#endif
#if HALF
    const int c = TNB * 16;
#pragma nounroll
    for (int r = 0; r < TM && m0 + r < M; ++r) {
        int t[8];  // the last COUT % 16 channels (HALF: one group)
        vstore8(acc_h[r] + vload8(0, comp + c), 0, t);
        STORE_PART(t, c, ROW_OF(r));
    }
#endif
}
