// Float LRN across channels of a plain float32 tensor [N][C][INNER] (LRN-1 with axes {1}):
// y = x / (BIAS + ALPHA * sum of x^2 over channels c-HALF..c+HALF, cut at the edges)^BETA,
// ALPHA already divided by the window size.  One output per work-item, global size
// (INNER, N*C): work-items next to each other in dimension 0 take consecutive positions of
// a channel, and the compiler sees their loads are contiguous (from one flat index, it
// could not tell, and gathered them).
// Where the device has doubles the sum and the power are taken in double, as the NumPy
// reference does (with ALPHA64, alpha / size in double), so only the last rounding to float
// can differ.
// Instance macros: C, INNER, HALF, ALPHA, BETA, BIAS (float literals),
// ALPHA64 (a double literal), BETA_3_4 (1 where beta is 0.75).

#if defined(cl_khr_fp64)
typedef double lrn_t;
#define LRN_ALPHA ALPHA64
#else
typedef float lrn_t;
#define LRN_ALPHA ALPHA
#endif

__kernel void lrn(__global float *y, __global const float *x)
{
    const int p = get_global_id(0);  // position in the channel: consecutive work-items, consecutive floats
    const int nc = get_global_id(1);
    if (p >= INNER)
        return;
    const int c = nc % C;
    const size_t at = (size_t)nc * INNER + p;
    const __global float *column = x + at - (size_t)c * INNER;  // channel 0, this position
    lrn_t sum = 0;
#pragma unroll
    for (int k = -HALF; k <= HALF; ++k) {  // a fixed count, channels outside read as 0: vectorizes
        const int j = c + k;
        const lrn_t v = j >= 0 && j < C ? column[(size_t)j * INNER] : 0.0f;
        sum += v * v;
    }
    const lrn_t base = (lrn_t)BIAS + (lrn_t)LRN_ALPHA * sum;
#if BETA_3_4  // AlexNet's and GoogLeNet's beta: two square roots cost a fraction of pow
    const lrn_t root = sqrt(base);
    y[at] = (float)((lrn_t)x[at] / (root * sqrt(root)));
#else
    y[at] = (float)((lrn_t)x[at] / pow(base, (lrn_t)BETA));
#endif
}
