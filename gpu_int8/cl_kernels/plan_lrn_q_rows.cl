// plan_lrn_q.cl's dequantize -> LRN across channels -> quantize, for Intel's CPU runtime: a
// work-item takes 16 channels of one NHWC pixel as vectors, work-items kept apart.
//
// With a work-item per element, the runtime's vectorizer gathered the window's channels
// element by element (GoogLeNet's two LRNs: 0.38 ms, 2x OpenVINO's).  Here each of the window's
// 2*HALF+1 taps is one vector of the pixel's channels, shifted by the tap: a block at either
// end of the channels loads its pixel's first (last) 16 and shifts them in the vector, zeros
// coming in where the window leaves the channels, so nothing outside the pixel is read.  The
// arithmetic is plan_lrn_q.cl's FAST path: the LRN in float, its result within 2^-18 of the
// exact one; where the two ends of that interval quantize apart in any lane, the block's lanes
// are taken again one by one in double (lrn_math.cl), the reference's values.
// Instance macros: C (a multiple of 16), CB (C / 16), COUNT (work-items: N*H*W*CB), HALF,
// X_T, Y_T, DEQV(v) (16 lanes, per tensor), QUANTV(y,c), STOREV(y) (16 lanes from channel c),
// QUANT(y,c), STORE(y) (one value; both quantizations read kq), ALPHA, BETA, BIAS, ALPHA64,
// BETA_3_4, SPREAD (2^-18: the float error's bound, relative).

#include "lrn_math.cl"

#define VCAT_(a, b) a##b
#define VCAT(a, b) VCAT_(a, b)
#define LANES ((uint16)(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15))

// the tap vectors of a block at either end of the channels: the pixel's first (last) 16
// moved up (down) by s lanes, zeros coming in (shuffle2 takes lanes 16.. from its second vector)
#define MOVED_UP(v, s) shuffle2((float16)(0.0f), (v), LANES + (uint16)(16 - (s)))
#define MOVED_DOWN(v, s) shuffle2((v), (float16)(0.0f), LANES + (uint16)(s))

__attribute__((intel_reqd_sub_group_size(1)))
__kernel void lrn_q_rows(__global Y_T *y, __global const X_T *x, __global const float *kd,
                         __global const float *kq)
{
    const int g = get_global_id(0);
    if (g >= COUNT)
        return;
    const int cb = g % CB, p = g / CB, c = cb * 16;
    const __global X_T *px = x + (size_t)p * C;
    float16 v[LRN_SIZE];
#pragma unroll
    for (int k = 0; k < LRN_SIZE; ++k) {
        const int j = c - HALF + k;  // the tap's first channel; the shifts are constants
        if (j < 0)  // the first block (HALF < 16)
            v[k] = MOVED_UP(DEQV(convert_float16(vload16(0, px))), HALF - k);
        else if (j + 16 > C)  // the last block
            v[k] = MOVED_DOWN(DEQV(convert_float16(vload16(0, px + C - 16))), k - HALF);
        else
            v[k] = DEQV(convert_float16(vload16(0, px + j)));
    }
    float16 sum = (float16)(0.0f);
#pragma unroll
    for (int k = 0; k < LRN_SIZE; ++k)
        sum += v[k] * v[k];
    const float16 root = sqrt(BIAS + ALPHA * sum);
    const float16 guess = v[HALF] / (root * sqrt(root));
    const float16 spread = fabs(guess) * SPREAD;
    VCAT(Y_T, 16) q = STOREV(QUANTV(guess - spread, c));
    if (any(q != STOREV(QUANTV(guess + spread, c)))) {
        float taps[LRN_SIZE][16];
        for (int k = 0; k < LRN_SIZE; ++k)
            vstore16(v[k], 0, taps[k]);
        Y_T lanes[16];
        for (int i = 0; i < 16; ++i) {
            float w[LRN_SIZE];
            for (int k = 0; k < LRN_SIZE; ++k)
                w[k] = taps[k][i];
            lanes[i] = STORE(QUANT(lrn_value(w), c + i));
        }
        q = vload16(0, lanes);
    }
    vstore16(q, 0, y + (size_t)p * C + c);
}
