// requant.cl's requantization on 16 channels at once (one zmm), for kernels that run on
// Intel's CPU runtime only: PoCL built for AVX2 mishandles 16-wide function arguments (see
// requant.cl), so kernels built there never include this file.

inline float16 rq_affine16(int16 acc, float16 m, float16 b) {
#pragma OPENCL FP_CONTRACT OFF
    float16 p = convert_float16(acc) * m;
    return p + b;
}

inline int16 rq_round_clamp16(float16 v, int lo, int hi) {
    float16 r = rint(v);
    r = min(max(r, (float16)((float)lo)), (float16)((float)hi));
    return convert_int16(r);
}

#define CONVERT_OUT16(v) RQ_CAT(convert_, RQ_CAT(OUT_T, 16))(v)
