// Float scaled dot-product attention, y = softmax(q k^T * SCALE + bias) v, for
// q [B, LQ, D], k [B, LK, D], v [B, LK, DV] (B: the batch and head axes together,
// plain float32).  bias: MASK (a scalar added to every logit) and, with CAUSAL,
// -inf above the diagonal.  One work-item per query row; its LK logits stay in
// private memory (the scheduler keeps LK small).
// Instance macros: B, LQ, LK, D, DV, SCALE, MASK, CAUSAL (float literals for SCALE, MASK).

__kernel void attention(__global float *y, __global const float *q, __global const float *k,
                        __global const float *v)
{
    const int row = get_global_id(0);
    if (row >= B * LQ)
        return;
    const int b = row / LQ, i = row - b * LQ;
    const __global float *qi = q + (size_t)row * D;
    const __global float *kb = k + (size_t)b * LK * D;
    const __global float *vb = v + (size_t)b * LK * DV;
    float logit[LK];
    float m = -INFINITY;
    for (int j = 0; j < LK; ++j) {
        float dot = 0.0f;
        for (int t = 0; t < D; ++t)
            dot += qi[t] * kb[j * D + t];
        float l = dot * SCALE + MASK;
#if CAUSAL
        if (j > i)
            l = -INFINITY;
#endif
        logit[j] = l;
        m = fmax(m, l);
    }
    float s = 0.0f;
    for (int j = 0; j < LK; ++j) {
        logit[j] = exp(logit[j] - m);
        s += logit[j];
    }
    __global float *yi = y + (size_t)row * DV;
    for (int t = 0; t < DV; ++t) {
        float acc = 0.0f;
        for (int j = 0; j < LK; ++j)
            acc += (logit[j] / s) * vb[j * DV + t];
        yi[t] = acc;
    }
}
