"""The peer: rembg's ``dis_custom`` session on the very same ISNet weights, as fp32 ONNX.

rembg runs ONNX through onnxruntime; we give it the released graph with every fp16
initializer widened to fp32 and the fp16 casts turned into no-op fp32 casts, so both
products use identical weights and the comparison is about the pipelines.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image

from remover.engine.weights import load_spec, obtain_onnx

REMBG_HOME = Path(__file__).resolve().parent / "out" / "rembg-models"
FP32_NAME = "isnet-general-fp32.onnx"


def fp32_onnx_path() -> Path:
    """Write (once) and return the fp32 copy of the released fp16 graph under rembg's model dir."""
    import onnx
    from onnx import TensorProto, numpy_helper

    target = REMBG_HOME / FP32_NAME
    if target.is_file():
        return target
    model = onnx.load(str(obtain_onnx(load_spec(), log=lambda *_: None)))
    for init in model.graph.initializer:
        if init.data_type == TensorProto.FLOAT16:
            init.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(init).astype(np.float32), init.name))
    for node in model.graph.node:
        for attr in node.attribute:
            if node.op_type == "Cast" and attr.name == "to" and attr.i == TensorProto.FLOAT16:
                attr.i = TensorProto.FLOAT
    for value in list(model.graph.value_info):
        if value.type.tensor_type.elem_type == TensorProto.FLOAT16:
            value.type.tensor_type.elem_type = TensorProto.FLOAT
    REMBG_HOME.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(target))
    return target


class RembgPeer:
    """rembg with default settings, or with ``alpha_matting=True``; returns the output's alpha."""

    def __init__(self, alpha_matting: bool = False) -> None:
        os.environ["U2NET_HOME"] = str(REMBG_HOME)
        from rembg import new_session

        self.alpha_matting = alpha_matting
        self.session = new_session("dis_custom", model_path=str(fp32_onnx_path()))

    def cutout(self, path: Path) -> Image.Image:
        from rembg import remove

        return remove(Image.open(path), session=self.session, alpha_matting=self.alpha_matting)
