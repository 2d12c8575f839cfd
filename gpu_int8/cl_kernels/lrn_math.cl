// The LRN arithmetic plan_lrn.cl and plan_lrn_q.cl share: the window's sum of squares and
// the power in double where the device has doubles, as the NumPy reference takes them (with
// ALPHA64, alpha / size in double), so only the last rounding to float can differ.  Beta
// 0.75 (AlexNet's and GoogLeNet's) takes two square roots instead of pow, a fraction of its
// cost.  Macros: HALF, ALPHA, ALPHA64, BETA, BIAS, BETA_3_4 (see the kernels).

#if defined(cl_khr_fp64)
typedef double lrn_t;
#define LRN_ALPHA ALPHA64
#else
typedef float lrn_t;
#define LRN_ALPHA ALPHA
#endif

#define LRN_SIZE (2 * HALF + 1)

// y for the centre of window v (channels c-HALF .. c+HALF, those outside the tensor 0)
inline float lrn_value(const float *v)
{
    lrn_t total = 0;
#pragma unroll
    for (int k = 0; k < LRN_SIZE; ++k)
        total += (lrn_t)v[k] * (lrn_t)v[k];
    const lrn_t base = (lrn_t)BIAS + (lrn_t)LRN_ALPHA * total;
#if BETA_3_4
    const lrn_t r = sqrt(base);
    return (float)((lrn_t)v[HALF] / (r * sqrt(r)));
#else
    return (float)((lrn_t)v[HALF] / pow(base, (lrn_t)BETA));
#endif
}
