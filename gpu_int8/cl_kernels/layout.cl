// Element offsets of the activation layouts (LAYOUT codes as in gpu_int8/scheduler/layouts.py):
//   0 nchw  [N][C][H][W]
//   1 nhwc  [N][H][W][C]
//   2 fsv16 [N][ceil(C/16)][H][W][16], channels past C are padding
// The layout argument is a build-time constant, so the branches fold away.
// (Parameter names are lower case: kernels define C, H, W... as macros.)

inline size_t tensor_offset(int layout, int n, int c, int h, int w, int cn, int hn, int wn) {
    if (layout == 0)
        return (((size_t)n * cn + c) * hn + h) * wn + w;
    if (layout == 1)
        return (((size_t)n * hn + h) * wn + w) * cn + c;
    return ((((size_t)n * ((cn + 15) / 16) + c / 16) * hn + h) * wn + w) * 16 + c % 16;
}

// Elements a tensor occupies in memory (padding included).
inline size_t tensor_size(int layout, int nn, int cn, int hn, int wn) {
    const int cp = layout == 2 ? (cn + 15) / 16 * 16 : cn;
    return (size_t)nn * cp * hn * wn;
}

// The channel of physical element idx, or -1 for a padding element (fsv16).
inline int tensor_channel(int layout, size_t idx, int cn, int hn, int wn) {
    if (layout == 0)
        return (int)((idx / ((size_t)hn * wn)) % cn);
    if (layout == 1)
        return (int)(idx % cn);
    const int c = (int)((idx / ((size_t)hn * wn * 16)) % ((cn + 15) / 16)) * 16 + (int)(idx % 16);
    return c < cn ? c : -1;
}

// Logical (n, c, h, w) of physical element idx; c may be >= cn (padding) for fsv16.
inline int4 tensor_coords(int layout, size_t idx, int cn, int hn, int wn) {
    if (layout == 0) {
        const int w = idx % wn; idx /= wn;
        const int h = idx % hn; idx /= hn;
        const int c = idx % cn;
        return (int4)((int)(idx / cn), c, h, w);
    }
    if (layout == 1) {
        const int c = idx % cn; idx /= cn;
        const int w = idx % wn; idx /= wn;
        const int h = idx % hn;
        return (int4)((int)(idx / hn), c, h, w);
    }
    const int cc = idx % 16; idx /= 16;
    const int w = idx % wn; idx /= wn;
    const int h = idx % hn; idx /= hn;
    const int cb = idx % ((cn + 15) / 16);
    return (int4)((int)(idx / ((cn + 15) / 16)), cb * 16 + cc, h, w);
}
