"""The graph IR: Values, Nodes, Graph, and the load-time shape pass."""

from gpu_int8.graph.graph import Graph
from gpu_int8.graph.node import Node
from gpu_int8.graph.shapes import infer_shapes, set_input_shapes
from gpu_int8.graph.value import Value

__all__ = ["Graph", "Node", "Value", "infer_shapes", "set_input_shapes"]
