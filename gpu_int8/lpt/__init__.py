"""Low Precision Transformation: a quantized Graph becomes a fused int8 Schedule.

Each rewrite is one small module, applied in this order:

1. :mod:`fold_weight_fake_quantize` - weight FakeQuantize -> int8 constant + dequantization
2. :mod:`fake_quantize_decomposition` - activation FakeQuantize -> quantize + dequantization
3. :mod:`move_dequantization`, :mod:`move_through_concat` - dequantizations move past
   precision-preserving ops, until none moves
4. :mod:`requantize_per_channel` - one scale in front of ops that mix channels
5. :mod:`lower_convolution`, :mod:`lower_matmul` - int8 x int8 with int32 accumulation,
   the dequantization after the op
6. :mod:`build_schedule` - fusion of each int8 op with scale, bias, activation, residual and
   the next FakeQuantize into one step; float steps where no int8 form exists
"""

from __future__ import annotations

from gpu_int8.graph import Graph
from gpu_int8.lpt.build_schedule import build_schedule
from gpu_int8.lpt.fake_quantize_decomposition import decompose_fake_quantize
from gpu_int8.lpt.fold_weight_fake_quantize import fold_weight_fake_quantize
from gpu_int8.lpt.lower_convolution import lower_convolution
from gpu_int8.lpt.lower_matmul import lower_matmul
from gpu_int8.lpt.lpt_graph import LptGraph, clone_graph
from gpu_int8.lpt.move_dequantization import move_dequantization
from gpu_int8.lpt.move_through_concat import move_through_concat
from gpu_int8.lpt.requantize_per_channel import requantize_per_channel
from gpu_int8.schedule import Schedule

__all__ = ["LptGraph", "lower", "transform"]


def lower(graph: Graph) -> LptGraph:
    """Steps 1-5 on a copy of ``graph`` (shapes inferred): the int8 graph before fusion."""
    g = LptGraph(clone_graph(graph))
    fold_weight_fake_quantize(g)
    decompose_fake_quantize(g)
    g.finish()
    while move_dequantization(g) + move_through_concat(g):
        g.finish()
    requantize_per_channel(g)
    g.finish()
    lower_convolution(g)
    lower_matmul(g)
    g.finish()
    return g


def transform(graph: Graph) -> Schedule:
    """The int8 Schedule of ``graph`` (shapes inferred); ``graph`` itself is not changed."""
    return build_schedule(lower(graph), {node.name for node in graph.nodes})
