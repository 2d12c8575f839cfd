// Float scaled dot-product attention, y = softmax(q k^T * SCALE + bias) v, for
// q [B, LQ, D], k [B, LK, D], v [B, LK, DV] (B: the batch and head axes together,
// plain float32).  bias: MASK (a scalar added to every logit) and, with CAUSAL,
// -inf above the diagonal.  One work-item per query row; its LK logits stay in
// private memory (the scheduler keeps LK small).
// Instance macros: B, LQ, LK, D, DV, SCALE, MASK, CAUSAL (float literals for SCALE, MASK),
// KV_LOCAL and WG (below).
// With the quantizations around it (compile/attention_group.py): Q_T, K_T, V_T, Y_T, the
// element types; LOAD_Q(v), LOAD_K(v), LOAD_V(v), the dequantization of a stored element
// (reading kq, kk, kv); STORE_Y(v), the quantization of an output (reading ky); GROUP_ARGS,
// those four constant buffers.  By default float in, float out.

#ifndef GROUP_ARGS
#define Q_T float
#define K_T float
#define V_T float
#define Y_T float
#define LOAD_Q(v) (v)
#define LOAD_K(v) (v)
#define LOAD_V(v) (v)
#define STORE_Y(v) (v)
#define GROUP_ARGS
#endif

// KV_LOCAL 1: a work-group (WG work-items, query rows of one head) first stores the head's
// keys and values, dequantized, in local memory: the rows then read them from there, and
// each stored element is dequantized once a work-group instead of once a query row.
// global = (LQ rounded up to WG, B), local = (WG, 1).  KV_LOCAL 0: global = B * LQ rows
// rounded up to WG, local = WG.
__kernel __attribute__((reqd_work_group_size(WG, 1, 1)))
void attention(__global Y_T *y, __global const Q_T *q, __global const K_T *k, __global const V_T *v GROUP_ARGS)
{
#if KV_LOCAL
    const int b = get_global_id(1), i = get_global_id(0);
    __local float kb[LK * D];
    __local float vb[LK * DV];
    for (int e = get_local_id(0); e < LK * D; e += WG)
        kb[e] = LOAD_K((float)k[(size_t)b * LK * D + e]);
    for (int e = get_local_id(0); e < LK * DV; e += WG)
        vb[e] = LOAD_V((float)v[(size_t)b * LK * DV + e]);
    barrier(CLK_LOCAL_MEM_FENCE);
    if (i >= LQ)
        return;
    const size_t row = (size_t)b * LQ + i;
#define K_AT(e) kb[e]
#define V_AT(e) vb[e]
#else
    const size_t row = get_global_id(0);
    if (row >= B * LQ)
        return;
    const int b = row / LQ, i = row - b * LQ;
    const __global K_T *kb = k + (size_t)b * LK * D;
    const __global V_T *vb = v + (size_t)b * LK * DV;
#define K_AT(e) LOAD_K((float)kb[e])
#define V_AT(e) LOAD_V((float)vb[e])
#endif
    float qi[D];  // the query row, dequantized once
    for (int t = 0; t < D; ++t)
        qi[t] = LOAD_Q((float)q[row * D + t]);
    float logit[LK];
    float m = -INFINITY;
    for (int j = 0; j < LK; ++j) {
        float dot = 0.0f;
        for (int t = 0; t < D; ++t)
            dot += qi[t] * K_AT(j * D + t);
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
    __global Y_T *yi = y + row * DV;
    for (int t = 0; t < DV; ++t) {
        float acc = 0.0f;
        for (int j = 0; j < LK; ++j)
            acc += (logit[j] / s) * V_AT(j * DV + t);
        yi[t] = STORE_Y(acc);
    }
}
