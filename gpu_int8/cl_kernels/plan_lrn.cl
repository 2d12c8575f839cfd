// Float LRN across channels of a plain float32 tensor [N][C][INNER] (LRN-1 with axes {1}):
// y = x / (BIAS + ALPHA * sum of x^2 over channels c-HALF..c+HALF, cut at the edges)^BETA,
// ALPHA already divided by the window size.  One output per work-item, global size
// (INNER, N*C): work-items next to each other in dimension 0 take consecutive positions of
// a channel, and the compiler sees their loads are contiguous (from one flat index, it
// could not tell, and gathered them).  The arithmetic: lrn_math.cl (in double where the
// device has doubles, so it stores the reference's floats).
// Instance macros: C, INNER, HALF, ALPHA, BETA, BIAS (float literals),
// ALPHA64 (a double literal), BETA_3_4 (1 where beta is 0.75).

#include "lrn_math.cl"

__kernel void lrn(__global float *y, __global const float *x)
{
    const int p = get_global_id(0);  // position in the channel: consecutive work-items, consecutive floats
    const int nc = get_global_id(1);
    if (p >= INNER)
        return;
    const int c = nc % C;
    const size_t at = (size_t)nc * INNER + p;
    const __global float *column = x + at - (size_t)c * INNER;  // channel 0, this position
    float v[LRN_SIZE];
#pragma unroll
    for (int k = 0; k < LRN_SIZE; ++k) {  // a fixed count, channels outside read as 0: vectorizes
        const int j = c - HALF + k;
        v[k] = j >= 0 && j < C ? column[(size_t)j * INNER] : 0.0f;
    }
    y[at] = lrn_value(v);
}
