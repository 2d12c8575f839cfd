// Element offsets of the activation layouts (LAYOUT codes as in gpu_int8/scheduler/layouts.py):
//   0 nchw  [N][C][H][W]
//   1 nhwc  [N][H][W][C]
//   2 fsv16 [N][ceil(C/16)][H][W][16], channels past C are padding
// The layout argument is a build-time constant, so the switch folds away.

inline size_t tensor_offset(int layout, int n, int c, int h, int w, int C, int H, int W) {
    if (layout == 0)
        return (((size_t)n * C + c) * H + h) * W + w;
    if (layout == 1)
        return (((size_t)n * H + h) * W + w) * C + c;
    return ((((size_t)n * ((C + 15) / 16) + c / 16) * H + h) * W + w) * 16 + c % 16;
}

// Elements a tensor occupies in memory (padding included).
inline size_t tensor_size(int layout, int N, int C, int H, int W) {
    const int cp = layout == 2 ? (C + 15) / 16 * 16 : C;
    return (size_t)N * cp * H * W;
}

// The channel of physical element idx, or -1 for a padding element (fsv16).
inline int tensor_channel(int layout, size_t idx, int C, int H, int W) {
    if (layout == 0)
        return (int)((idx / ((size_t)H * W)) % C);
    if (layout == 1)
        return (int)(idx % C);
    const int c = (int)((idx / ((size_t)H * W * 16)) % ((C + 15) / 16)) * 16 + (int)(idx % 16);
    return c < C ? c : -1;
}

// Logical (n, c, h, w) of physical element idx; c may be >= C (padding) for fsv16.
inline int4 tensor_coords(int layout, size_t idx, int C, int H, int W) {
    if (layout == 0) {
        const int w = idx % W; idx /= W;
        const int h = idx % H; idx /= H;
        const int c = idx % C;
        return (int4)((int)(idx / C), c, h, w);
    }
    if (layout == 1) {
        const int c = idx % C; idx /= C;
        const int w = idx % W; idx /= W;
        const int h = idx % H;
        return (int4)((int)(idx / H), c, h, w);
    }
    const int cc = idx % 16; idx /= 16;
    const int w = idx % W; idx /= W;
    const int h = idx % H; idx /= H;
    const int cb = idx % ((C + 15) / 16);
    return (int4)((int)(idx / ((C + 15) / 16)), cb * 16 + cc, h, w);
}
