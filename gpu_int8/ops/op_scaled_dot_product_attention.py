"""ScaledDotProductAttention-13: ``softmax(q @ k^T * scale + bias) @ v``.

``scale`` defaults to ``1 / sqrt(q.shape[-1])``.  The bias is ``-inf`` above the
diagonal when ``causal`` (top-left aligned, as in PyTorch); otherwise a
boolean ``attention_mask`` gives ``-inf`` where it is False and a float mask is
added.  Batch axes broadcast like NumPy.
"""

from __future__ import annotations

import numpy as np

from gpu_int8.ops import spatial
from gpu_int8.ops.base import Attr, Op, broadcast
from gpu_int8.ops.op_softmax import softmax


class ScaledDotProductAttention(Op):
    attributes = {"causal": Attr("bool", False)}

    @classmethod
    def run(cls, node, q, k, v, attention_mask=None, scale=None):
        cls._shape(q.shape, k.shape, v.shape)
        qf, kf, vf = spatial.float_input(q), spatial.float_input(k), spatial.float_input(v)
        if scale is None:
            factor = qf.dtype.type(1.0 / np.sqrt(q.shape[-1]))
        else:
            factor = np.asarray(scale, dtype=qf.dtype).reshape(())
        logits = np.matmul(qf, np.swapaxes(kf, -1, -2)) * factor
        length, source = q.shape[-2], k.shape[-2]
        if cls.attr(node, "causal"):
            logits = logits + np.triu(np.full((length, source), -np.inf, dtype=qf.dtype), k=1)
        elif attention_mask is not None:
            if attention_mask.dtype == np.bool_:
                logits = np.where(attention_mask, logits, qf.dtype.type(-np.inf))
            else:
                logits = logits + attention_mask.astype(qf.dtype, copy=False)
        y = np.matmul(softmax(logits, -1), vf)
        return (y.astype(q.dtype, copy=False),)

    @classmethod
    def _shape(cls, q_shape, k_shape, v_shape) -> tuple:
        if min(len(q_shape), len(k_shape), len(v_shape)) < 2:
            raise ValueError("query, key and value need rank >= 2")
        if q_shape[-1] != k_shape[-1] or k_shape[-2] != v_shape[-2]:
            raise ValueError(f"query {list(q_shape)}, key {list(k_shape)}, value {list(v_shape)} do not fit")
        batch = broadcast(tuple(q_shape[:-2]), tuple(k_shape[:-2]), tuple(v_shape[:-2]))
        return batch + (q_shape[-2], v_shape[-1])

    @classmethod
    def infer(cls, node, inputs):
        q, k, v = inputs[:3]
        return [(cls._shape(q.shape, k.shape, v.shape), q.dtype)]
