// Portable int8 convolution as GEMM (OpenCL C 1.2, no extensions).
// Covers 1x1 and KxK convolution (implicit im2col), grouped convolution and
// fully connected / matmul (a 1x1 convolution over 1x1 pixels).
//
// Layouts: activations NHWC (u8 or i8), output NHWC; weights as exact float32
// copies of the int8 values, [G][K][NPAD] with k = (kh*KW + kw)*CIN_G + ci and
// the group's output channels padded with zeros to NPAD (a multiple of 16).
//
// Exactness: each product is at most 255*128 in magnitude, so a float32 sum of
// up to KBLOCK=512 of them stays below 2^24 and is exact; every KBLOCK terms the
// float accumulators are flushed into int32.  The result equals integer math.
//
// Padded taps read the activation zero point (pad_row, CIN_G bytes of it), so the
// per-channel compensation comp[c] = -zp * sum(w[c]) stays right at the borders.
//
// Work-item: TM output pixels x 16 output channels of one group (a 6x16 register tile by default).
//   global = (G * NPAD/16, ceil(M/TM)), M = N*OH*OW (runtime, so batch needs no rebuild)
//
// Build-time macros: ACT_T, OUT_T, OUT_MODE, IH, IW, C, OH, OW, KH, KW, SH, SW,
// PH, PW, DH, DW, CIN_G, COUT_G, NPAD, COUT, TM.

#include "requant.cl"
#include "conv_params.cl"
#include "conv_tile.cl"

#ifndef TM
#define TM 6
#endif
#define KBLOCK 512
#define KTOT (KH * KW * CIN_G)
#define NTILES (NPAD / 16)

// A row of the tile is 16 channels held as two 8-wide halves (see requant.cl on 16-wide).
#define FLUSH_ROW(r)                                   \
    do {                                               \
        iacc0[r] += convert_int8(facc0[r]);            \
        iacc1[r] += convert_int8(facc1[r]);            \
        facc0[r] = (float8)(0.0f);                     \
        facc1[r] = (float8)(0.0f);                     \
    } while (0)

__kernel __attribute__((vec_type_hint(float8)))
void conv_gemm_portable(__global const ACT_T *x,      // [N][IH][IW][C]
                        __global const uchar *params, // see conv_params.cl
                        __global OUT_T *y,            // [N][OH][OW][COUT]
                        int M, int lo, int hi EPI_ARGS)
{
    CONV_PARAMS(float)  // w: [G][KTOT][NPAD]
    const int nt = get_global_id(0);
    const int g = nt / NTILES;
    const int n0 = (nt - g * NTILES) * 16;
    const int m0 = get_global_id(1) * TM;
    if (m0 >= M || g >= COUT / COUT_G)
        return;

    int in_base[TM], ih0[TM], iw0[TM];
    CONV_TILE_ORIGINS(m0, g, in_base, ih0, iw0)

    float8 facc0[TM], facc1[TM];
    int8 iacc0[TM], iacc1[TM];
#pragma unroll
    for (int r = 0; r < TM; ++r) {
        facc0[r] = (float8)(0.0f);
        facc1[r] = (float8)(0.0f);
        iacc0[r] = (int8)(0);
        iacc1[r] = (int8)(0);
    }
    int pending = 0;  // terms in facc since the last flush

    const __global float *wg = w + (size_t)g * KTOT * NPAD + n0;
    for (int kh = 0; kh < KH; ++kh) {
        for (int kw = 0; kw < KW; ++kw) {
            const __global ACT_T *src[TM];
#pragma unroll
            for (int r = 0; r < TM; ++r) {
                const int ih = ih0[r] + kh * DH;
                const int iw = iw0[r] + kw * DW;
                const bool inside = ih >= 0 && ih < IH && iw >= 0 && iw < IW;
                src[r] = inside ? x + in_base[r] + (ih * IW + iw) * C : pad_row;
            }
            const __global float *wk = wg + (size_t)((kh * KW + kw) * CIN_G) * NPAD;
            for (int c0 = 0; c0 < CIN_G; c0 += KBLOCK) {
                const int len = min(KBLOCK, CIN_G - c0);
                if (pending + len > KBLOCK) {
#pragma unroll
                    for (int r = 0; r < TM; ++r)
                        FLUSH_ROW(r);
                    pending = 0;
                }
                int ci = c0;
                // 4 activations per row at a time: one 4-byte load and one conversion
                // instead of four of each
                for (; ci + 4 <= c0 + len; ci += 4) {
                    float4 a4[TM];
#pragma unroll
                    for (int r = 0; r < TM; ++r)
                        a4[r] = convert_float4(vload4(0, src[r] + ci));
#pragma unroll
                    for (int j = 0; j < 4; ++j) {
                        const float8 w0 = vload8(0, wk + (size_t)(ci + j) * NPAD);
                        const float8 w1 = vload8(1, wk + (size_t)(ci + j) * NPAD);
#pragma unroll
                        for (int r = 0; r < TM; ++r) {
                            const float s = j == 0 ? a4[r].s0 : j == 1 ? a4[r].s1 : j == 2 ? a4[r].s2 : a4[r].s3;
                            facc0[r] += (float8)(s) * w0;  // contracted to fma where the target has one
                            facc1[r] += (float8)(s) * w1;
                        }
                    }
                }
                for (; ci < c0 + len; ++ci) {
                    const float8 w0 = vload8(0, wk + (size_t)ci * NPAD);
                    const float8 w1 = vload8(1, wk + (size_t)ci * NPAD);
#pragma unroll
                    for (int r = 0; r < TM; ++r) {
                        const float8 a = (float8)((float)src[r][ci]);
                        facc0[r] += a * w0;
                        facc1[r] += a * w1;
                    }
                }
                pending += len;
            }
        }
    }

    const int cg0 = g * COUT_G + n0;  // first output channel of this tile
    const bool full = n0 + 16 <= COUT_G;
    int cmp_t[16];
    float ms_t[16], bs_t[16];
    for (int j = 0; j < 16; ++j) {
        const bool ok = n0 + j < COUT_G;
        cmp_t[j] = ok ? comp[cg0 + j] : 0;
        ms_t[j] = ok ? mscale[cg0 + j] : 0.0f;
        bs_t[j] = ok ? bias[cg0 + j] : 0.0f;
    }

#pragma unroll
    for (int r = 0; r < TM; ++r) {
        if (m0 + r >= M)
            break;
#if OUT_MODE == 3
        {
#ifdef EPI_STORE8
            if (full) {  // the generated epilogue on 8 channels at a time
                const size_t at = (size_t)(m0 + r) * COUT + cg0;
                EPI_STORE8(iacc0[r] + convert_int8(facc0[r]) + vload8(0, cmp_t), cg0, at);
                EPI_STORE8(iacc1[r] + convert_int8(facc1[r]) + vload8(1, cmp_t), cg0 + 8, at + 8);
                continue;
            }
#endif
            int a16[16];
            vstore8(iacc0[r] + convert_int8(facc0[r]) + vload8(0, cmp_t), 0, a16);
            vstore8(iacc1[r] + convert_int8(facc1[r]) + vload8(1, cmp_t), 1, a16);
            const size_t base = (size_t)(m0 + r) * COUT + cg0;
            for (int j = 0; j < 16 && n0 + j < COUT_G; ++j)
                y[base + j] = EPI_STORE(a16[j], cg0 + j, base + j);
        }
        continue;
#endif
        OUT_T tq[16];
        for (int h = 0; h < 2; ++h) {
            const int8 acc = (h ? iacc1[r] + convert_int8(facc1[r]) : iacc0[r] + convert_int8(facc0[r]))
                             + vload8(h, cmp_t);
#if OUT_MODE == 0
            vstore8(CONVERT_OUT8(rq_round_clamp8(rq_affine8(acc, vload8(h, ms_t), vload8(h, bs_t)), lo, hi)),
                    h, tq);
#elif OUT_MODE == 1
            vstore8(acc, h, tq);
#elif OUT_MODE == 2
            vstore8(rq_affine8(acc, vload8(h, ms_t), vload8(h, bs_t)), h, tq);
#endif
        }
        __global OUT_T *dst = y + (size_t)(m0 + r) * COUT + cg0;
        if (full) {
            vstore8(vload8(0, tq), 0, dst);
            vstore8(vload8(1, tq), 1, dst);
        } else {
            for (int j = 0; j < 16 && n0 + j < COUT_G; ++j)
                dst[j] = tq[j];
        }
    }
}
