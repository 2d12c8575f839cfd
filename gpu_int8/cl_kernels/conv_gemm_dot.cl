// Portable int8 convolution as GEMM whose inner loop is a plain integer dot product.
// Same coverage and NHWC layout as conv_gemm_portable.cl (1x1, KxK with implicit im2col,
// groups, fully connected), for CPU devices with fast 8-bit dot products.
//
// The innermost loop runs along the contiguous input channels of one tap:
//     acc[r][j] += (int)a[r][ci] * (int)w[j][ci]
// a u8 x i8 product summed into int32.  CPU compilers vectorize it as a reduction
// and emit the x86 VNNI instruction vpdpbusd (or pmaddwd without VNNI).  For that
// the work-items must not be vectorized across (which would turn every load into a
// gather): NO_WI_VECTORIZE, on Intel's CPU runtime, asks for subgroups of one.
// int32 accumulation is exact, so the result equals the reference executor's.
//
// KxK convolutions either read gathered windows (im2col.cl, run as 1x1) or, with
// ROW_RUNS=1 (one group, no dilation), run each kernel row's KW taps as one stretch of
// KW*C contiguous NHWC bytes where all of them are inside the input, tap by tap at borders.
//
// Signed activations (ACT_FLIP=1) are read as u8 with the sign bit flipped,
// x ^ 0x80 = x + 128; the host subtracts 128 * sum(w[c]) in comp[c].
//
// Layouts: x NHWC (ACT_T), y NHWC (OUT_T); weights int8 [G][COUT_GP][KTOT], k =
// (kh*KW + kw)*CIN_G + ci, output channels padded with zero rows to COUT_GP (a
// multiple of TN).  Work-item: TM output pixels x TN output channels of one group,
//   global = (G * COUT_GP/TN, ceil(M/TM)), M = N*OH*OW (runtime).
//
// Build-time macros: as conv_gemm_portable.cl plus TN, COUT_GP, ACT_FLIP, ROW_RUNS, NO_WI_VECTORIZE,
// KEEP_DOT_LOOP.

#include "requant.cl"
#include "conv_tile.cl"

#define KTOT (KH * KW * CIN_G)
#define NTILES (COUT_GP / TN)

#if ACT_FLIP
#define ACT_U8(v) ((uchar)(v) ^ (uchar)0x80)
#else
#define ACT_U8(v) ((uchar)(v))
#endif

// Intel's compiler unrolls a short constant-length loop completely before vectorizing it and
// then pairs the products into vpdpwssd (K=64: 2.3x slower than vpdpbusd); KEEP_DOT_LOOP
// keeps it a loop.  (PoCL's compiler then stops interleaving long loops, so it is not asked.)
#if KEEP_DOT_LOOP
#define DOT_LOOP_PRAGMA _Pragma("clang loop unroll(disable)")
#else
#define DOT_LOOP_PRAGMA
#endif

// acc[r][j] += a[r][0..len) . wk[j][0..len): the loop the compiler turns into vpdpbusd
#define DOT_RUN(len)                                              \
    DOT_LOOP_PRAGMA                                               \
    for (int ci = 0; ci < (len); ++ci) {                          \
        _Pragma("unroll") for (int r = 0; r < TM; ++r) {          \
            const int av = ACT_U8(a[r][ci]);                      \
            _Pragma("unroll") for (int j = 0; j < TN; ++j)        \
                acc[r][j] += av * (int)wk[j][ci];                 \
        }                                                         \
    }

#if NO_WI_VECTORIZE
__attribute__((intel_reqd_sub_group_size(1)))
#endif
__kernel void conv_gemm_dot(__global const ACT_T *x,      // [N][IH][IW][C]
                            __global const char *w,       // [G][COUT_GP][KTOT]
                            __global const int *comp,     // [COUT]
                            __global const float *mscale, // [COUT]
                            __global const float *bias,   // [COUT]
                            __global OUT_T *y,            // [N][OH][OW][COUT]
                            __global const ACT_T *pad_row,// CIN_G copies of the zero point
                            int M, int lo, int hi EPI_ARGS)
{
    const int nt = get_global_id(0);
    const int g = nt / NTILES;
    const int n0 = (nt - g * NTILES) * TN;
    const int m0 = get_global_id(1) * TM;
    if (m0 >= M || g >= COUT / COUT_G)
        return;

    int in_base[TM], ih0[TM], iw0[TM];
    CONV_TILE_ORIGINS(m0, g, in_base, ih0, iw0)

    int acc[TM][TN];
    for (int r = 0; r < TM; ++r)
        for (int j = 0; j < TN; ++j)
            acc[r][j] = 0;

    const __global char *wg = w + ((size_t)g * COUT_GP + n0) * KTOT;
    const __global ACT_T *a[TM];
    const __global char *wk[TN];
    for (int kh = 0; kh < KH; ++kh) {
#if ROW_RUNS
        // all KW taps of every row inside the input: one run of KW*C contiguous bytes
        bool inside = true;
        for (int r = 0; r < TM; ++r) {
            const int ih = ih0[r] + kh;
            inside = inside && ih >= 0 && ih < IH && iw0[r] >= 0 && iw0[r] + KW - 1 < IW;
            a[r] = x + in_base[r] + (ih * IW + iw0[r]) * C;
        }
        if (inside) {
            for (int j = 0; j < TN; ++j)
                wk[j] = wg + (size_t)j * KTOT + kh * KW * CIN_G;
            DOT_RUN(KW * CIN_G);
            continue;
        }
#endif
        for (int kw = 0; kw < KW; ++kw) {
            for (int r = 0; r < TM; ++r) {
                const int ih = ih0[r] + kh * DH;
                const int iw = iw0[r] + kw * DW;
                const bool inside = ih >= 0 && ih < IH && iw >= 0 && iw < IW;
                a[r] = inside ? x + in_base[r] + (ih * IW + iw) * C : pad_row;
            }
            for (int j = 0; j < TN; ++j)
                wk[j] = wg + (size_t)j * KTOT + (kh * KW + kw) * CIN_G;
            DOT_RUN(CIN_G);
        }
    }

    const int cg0 = g * COUT_G + n0;  // first output channel of this tile
    const bool full = n0 + TN <= COUT_G;
    for (int r = 0; r < TM; ++r) {
        if (m0 + r >= M)
            break;
        const size_t base = (size_t)(m0 + r) * COUT + cg0;
#if TN == 4 && (OUT_MODE == 0 || (OUT_MODE == 3 && defined(EPI_STORE4)))
        if (full) {  // 4 channels as one vector: comp, requantization and store
            const int4 a4 = vload4(0, acc[r]) + vload4(0, comp + cg0);
#if OUT_MODE == 3
            EPI_STORE4(a4, cg0, base);
#else
            vstore4(CONVERT_OUT4(rq_round_clamp4(rq_affine4(a4, vload4(0, mscale + cg0), vload4(0, bias + cg0)),
                                                 lo, hi)), 0, y + base);
#endif
            continue;
        }
#endif
        for (int j = 0; j < TN && n0 + j < COUT_G; ++j) {
            const int c = cg0 + j;
            const int v = acc[r][j] + comp[c];
#if OUT_MODE == 3
            y[base + j] = EPI_STORE(v, c, base + j);
#else
            y[base + j] = rq_out(v, mscale[c], bias[c], lo, hi);
#endif
        }
    }
}
