"""gpu_int8: int8 inference of quantized vision models on Intel integrated GPUs.

Typical use::

    import gpu_int8
    engine = gpu_int8.load("model.xml", config="configs/default.yaml")
    outputs = engine.infer({engine.inputs[0].name: image_tensor})
"""

__version__ = "0.1.0"
