// Which outputs a work-item of the row-tiled pooling kernels takes (plan_max_pool_rows.cl,
// plan_avg_pool_rows.cl): TW consecutive outputs of one NHWC row, one block of channels, work-item
// g running over [N][OH][TILES][CB], channel blocks fastest.  Declares cb (the channel block),
// tile (of the row), row (n * OH + oh), oh and n.
#define ROW_TILE_COORDS(g)                                \
    const int cb = (g) % CB, rest_ = (g) / CB;            \
    const int tile = rest_ % TILES, row = rest_ / TILES;  \
    const int oh = row % OH, n = row / OH;
