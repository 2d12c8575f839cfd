// LRN across channels with the quantization after it (and the dequantization before it,
// where there is one) in one pass: GoogLeNet's and AlexNet's LRNs read int8 (or the
// convolution's float output) and feed an int8 layer, and each of the three steps had stored
// its tensor.  Any layout in and out, one output element per work-item, global size
// (channels and N*H*W, each rounded up to the group): consecutive work-items take consecutive
// channels of a pixel, contiguous in NHWC.
//
// The stored integers are the int8 reference's: dequantize (DEQ, float32 as the reference),
// LRN in double as the reference (lrn_math.cl), quantize (QUANT, then STORE).  With FAST, the
// LRN is first taken in float, whose result lies within 2^-18 of the double one relative to
// it (the float error is below 20 ulp: five positive squares summed, two square roots and a
// division, each rounded).  The quantization is monotonic, so where both ends of that
// interval store the same integer, the exact value stores it too; only the rare element near
// a rounding step is recomputed in double.
// Instance macros: C, H, W, NHW (N*H*W), HALF, X_T, Y_T, X_OFF(n,c,h,w), Y_OFF(n,c,h,w), DEQ(v,c),
// QUANT(y,c), STORE(y), ALPHA, BETA, BIAS (float literals), ALPHA64 (a double literal),
// BETA_3_4 (1 where beta is 0.75), FAST.

#include "lrn_math.cl"

#if FAST
#pragma OPENCL EXTENSION cl_intel_subgroups : enable
#endif

__kernel void lrn_q(__global Y_T *y, __global const X_T *x, __global const float *kd, __global const float *kq)
{
    // work-items past the channels read nothing and store nothing, but stay: the whole
    // sub-group reaches sub_group_any
    const int c = get_global_id(0);
    const int p = min((int)get_global_id(1), NHW - 1);  // the pixel: one for the work-items of a row
    const int n = p / (H * W);
    const int h = (p - n * H * W) / W;
    const int w = p - (n * H + h) * W;
    float v[LRN_SIZE];
#pragma unroll
    for (int k = 0; k < LRN_SIZE; ++k) {  // channels outside read as 0
        const int j = c - HALF + k;
        v[k] = j >= 0 && j < C ? DEQ((float)x[X_OFF(n, j, h, w)], j) : 0.0f;
    }
#if FAST
    float sum = 0.0f;
#pragma unroll
    for (int k = 0; k < LRN_SIZE; ++k)
        sum += v[k] * v[k];
    const float root = sqrt(BIAS + ALPHA * sum);
    const float guess = v[HALF] / (root * sqrt(root));
    const float spread = fabs(guess) * 0x1p-18f;
    Y_T q = STORE(QUANT(guess - spread, c));
    // a branch only where a lane of the sub-group (a vector on Intel's CPU runtime) needs it
    if (sub_group_any(q != STORE(QUANT(guess + spread, c))))
        q = STORE(QUANT(lrn_value(v), c));
#else
    const Y_T q = STORE(QUANT(lrn_value(v), c));
#endif
    if (c < C && get_global_id(1) < NHW)
        y[Y_OFF(n, c, h, w)] = q;
}
