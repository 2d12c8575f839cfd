// Shared requantization epilogue, included by every int8 kernel.
//
//   q = sat(rint(acc * m[c] + b[c]))   in float32, round half to even,
//   then clamped to the fused activation's range [lo, hi].
//
// The multiply and the add are two roundings, never one fused multiply-add:
// the reference executor computes them the same way (FP_CONTRACT OFF below).
//
// Build-time macros (all kernels):
//   OUT_MODE  0: requantized u8/i8 (OUT_T uchar/char)
//             1: raw int32 accumulator (OUT_T int), for debugging
//             2: float32 acc*m+b before rounding (OUT_T float), for debugging
//             3: a step's generated epilogue (gpu_int8/scheduler/epilogue_codegen.py):
//                the kernel stores EPI_STORE(acc, c, off) - acc the int32 sum with
//                comp[c] added, c the output channel, off the element's offset in y
//                (operands stored like y are read at off) - instead of requantizing;
//                EPI_ARGS appends the epilogue's buffers to the kernel's parameters;
//                kernels holding 8 or 4 channels in a vector use EPI_STORE8(acc8, c, off)
//                or EPI_STORE4(acc4, c, off) where it is defined
//   OUT_T     the output element type

#ifndef OUT_MODE
#define OUT_MODE 0
#endif
#ifndef OUT_T
#define OUT_T uchar
#endif
#ifndef EPI_ARGS
#define EPI_ARGS
#endif

inline float rq_affine(int acc, float m, float b) {
#pragma OPENCL FP_CONTRACT OFF
    float p = (float)acc * m;
    return p + b;
}

// v * m + b for a float v (pooling averages, quantize), two roundings
inline float rq_affine_f(float v, float m, float b) {
#pragma OPENCL FP_CONTRACT OFF
    float p = v * m;
    return p + b;
}

// min/max, not fmin/fmax: rounded finite values are never NaN, and fmin/fmax's NaN ordering
// costs three or four instructions each on x86 CPUs
inline int rq_round_clamp(float v, int lo, int hi) {
    float r = rint(v);
    r = min(max(r, (float)lo), (float)hi);
    return (int)r;
}

// One output value from an int32 accumulator of channel c's scale m and shift b.
inline OUT_T rq_out(int acc, float m, float b, int lo, int hi) {
#if OUT_MODE == 0
    return (OUT_T)rq_round_clamp(rq_affine(acc, m, b), lo, hi);
#elif OUT_MODE == 1
    return (OUT_T)acc;
#else
    return (OUT_T)rq_affine(acc, m, b);
#endif
}

// Same for a float value already in the accumulator's scale (pooling averages, eltwise sums).
inline OUT_T rq_out_f(float v, int lo, int hi) {
#if OUT_MODE == 0
    return (OUT_T)rq_round_clamp(v, lo, hi);
#elif OUT_MODE == 1
    return (OUT_T)(int)rint(v);
#else
    return (OUT_T)v;
#endif
}

// 8 channels at once (portable GEMM tiles).  8 wide, not 16: PoCL built for AVX2
// warns that 16-wide builtin arguments change the ABI and then fails to reload
// such programs from its own kernel cache.
inline float8 rq_affine8(int8 acc, float8 m, float8 b) {
#pragma OPENCL FP_CONTRACT OFF
    float8 p = convert_float8(acc) * m;
    return p + b;
}

inline int8 rq_round_clamp8(float8 v, int lo, int hi) {
    float8 r = min(max(v, (float8)((float)lo)), (float8)((float)hi));
    return as_int8(r + (float8)(12582912.0f)) - 0x4B400000;  // rounded half to even (requant16.cl)
}

// 4 channels at once (conv_gemm_dot tiles)
inline float4 rq_affine4(int4 acc, float4 m, float4 b) {
#pragma OPENCL FP_CONTRACT OFF
    float4 p = convert_float4(acc) * m;
    return p + b;
}

inline int4 rq_round_clamp4(float4 v, int lo, int hi) {
    float4 r = min(max(v, (float4)((float)lo)), (float4)((float)hi));
    return as_int4(r + (float4)(12582912.0f)) - 0x4B400000;  // rounded half to even (requant16.cl)
}

// convert_<OUT_T>8(v), e.g. convert_uchar8, for values already inside the output range
#define RQ_CAT_(a, b) a##b
#define RQ_CAT(a, b) RQ_CAT_(a, b)
#define CONVERT_OUT8(v) RQ_CAT(convert_, RQ_CAT(OUT_T, 8))(v)
#define CONVERT_OUT4(v) RQ_CAT(convert_, RQ_CAT(OUT_T, 4))(v)
