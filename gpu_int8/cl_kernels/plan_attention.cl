// Float scaled dot-product attention, y = softmax(q k^T * SCALE + bias) v, for
// q [B, LQ, D], k [B, LK, D], v [B, LK, DV] (B: the batch and head axes together,
// plain float32).  bias: MASK (a scalar added to every logit) and, with CAUSAL,
// -inf above the diagonal.  One work-item per query row; its LK logits stay in
// private memory (the scheduler keeps LK small).
// Instance macros: B, LQ, LK, D, DV, SCALE, MASK, CAUSAL (float literals for SCALE, MASK),
// KV_LOCAL and WG, Q_OFF, K_OFF, V_OFF and Y_OFF (below).
// With the quantizations around it (compile/attention_group.py): Q_T, K_T, V_T, Y_T, the
// element types; LOAD_Q(v), LOAD_K(v), LOAD_V(v), the dequantization of a stored element
// (reading kq, kk, kv); STORE_Y(v), the quantization of an output (reading ky); GROUP_ARGS,
// those four constant buffers.  By default float in, float out.

// Where element (b, i, t) of q, k, v and y lies in its buffer: by default each a contiguous
// [B, L, D] tensor.  A group that reads its queries, keys and values through moves of one tensor
// and stores through moves (compile/attention_group.py) gives affine offsets of its own.
#ifndef Q_OFF
#define Q_OFF(b, i, t) (((size_t)(b) * LQ + (i)) * D + (t))
#define K_OFF(b, j, t) (((size_t)(b) * LK + (j)) * D + (t))
#define V_OFF(b, j, t) (((size_t)(b) * LK + (j)) * DV + (t))
#define Y_OFF(b, i, t) (((size_t)(b) * LQ + (i)) * DV + (t))
#endif

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
    for (int j = get_local_id(0); j < LK; j += WG) {
        for (int t = 0; t < D; ++t)
            kb[j * D + t] = LOAD_K((float)k[K_OFF(b, j, t)]);
        for (int t = 0; t < DV; ++t)
            vb[j * DV + t] = LOAD_V((float)v[V_OFF(b, j, t)]);
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    if (i >= LQ)
        return;
#define K_AT(j, t) kb[(j) * D + (t)]
#define V_AT(j, t) vb[(j) * DV + (t)]
#else
    const size_t row = get_global_id(0);
    if (row >= B * LQ)
        return;
    const int b = row / LQ, i = row - b * LQ;
#define K_AT(j, t) LOAD_K((float)k[K_OFF(b, j, t)])
#define V_AT(j, t) LOAD_V((float)v[V_OFF(b, j, t)])
#endif
    float qi[D];  // the query row, dequantized once
    for (int t = 0; t < D; ++t)
        qi[t] = LOAD_Q((float)q[Q_OFF(b, i, t)]);
    float logit[LK];
    float m = -INFINITY;
    for (int j = 0; j < LK; ++j) {
        float dot = 0.0f;
        for (int t = 0; t < D; ++t)
            dot += qi[t] * K_AT(j, t);
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
    for (int t = 0; t < DV; ++t) {
        float acc = 0.0f;
        for (int j = 0; j < LK; ++j)
            acc += (logit[j] / s) * V_AT(j, t);
        y[Y_OFF(b, i, t)] = STORE_Y(acc);
    }
}
