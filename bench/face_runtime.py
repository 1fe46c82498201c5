"""LiteRT against a PyTorch port for the face models: speed, size and agreement.

    python -m bench.face_runtime            # needs `pip install tflite` (the .tflite parser) for the port

The port runs each .tflite graph op by op in PyTorch, with the weights read by the ``tflite``
flatbuffer parser: the few ops these four models use (convolution, depthwise convolution,
PReLU/ReLU, add, max pool, pad, reshape, concatenation, fp16 dequantize). It is what a
PyTorch port would compute, without writing each network out as a module, so it measures
the choice, not a shipped path. Each model gets the same inputs (crops of the evaluation
portraits as the pipeline makes them); we time one call per model, one thread each, and
compare the outputs. Then the whole landmark benchmark (eye and chin error) is run again with
the port in place of LiteRT.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from bench import faces as face_bench
from bench.datasets import EVAL_DIR
from bench.environment import describe
from remover.engine.imageio import decode_image
from remover.engine.weights import face_model_path, load_face_spec
from remover.idphoto import faces, tflite

ACTIVATIONS = {0: lambda x: x, 1: F.relu, 3: lambda x: F.relu6(x)}


def _same_pad(size: int, kernel: int, stride: int, dilation: int = 1) -> tuple[int, int]:
    """TensorFlow's SAME padding (the extra pixel goes after)."""
    out = -(-size // stride)
    total = max((out - 1) * stride + (kernel - 1) * dilation + 1 - size, 0)
    return total // 2, total - total // 2


class TorchGraph:
    """One .tflite subgraph executed with torch ops on NCHW tensors."""

    def __init__(self, path: Path):
        import tflite as parser

        self.p = parser
        buf = path.read_bytes()
        model = parser.Model.GetRootAsModel(buf, 0)
        graph = model.Subgraphs(0)
        self.inputs = [graph.Inputs(i) for i in range(graph.InputsLength())]
        self.outputs = [graph.Outputs(i) for i in range(graph.OutputsLength())]
        self.shapes = {i: tuple(graph.Tensors(i).ShapeAsNumpy()) if graph.Tensors(i).ShapeLength() else ()
                       for i in range(graph.TensorsLength())}
        dtypes = {parser.TensorType.FLOAT32: np.float32, parser.TensorType.FLOAT16: np.float16,
                  parser.TensorType.INT32: np.int32}
        self.consts: dict[int, np.ndarray] = {}
        sparse = []
        for i in range(graph.TensorsLength()):
            tensor = graph.Tensors(i)
            data = model.Buffers(tensor.Buffer()).DataAsNumpy()
            if not (isinstance(data, np.ndarray) and data.size):
                continue
            if tensor.Sparsity() is not None:
                sparse.append(i)
                continue
            self.consts[i] = np.frombuffer(data.tobytes(), dtypes[tensor.Type()]).reshape(self.shapes[i])
        self.dense = self._densified(path, graph, model, sparse) if sparse else {}
        self.ops = []
        for k in range(graph.OperatorsLength()):
            op = graph.Operators(k)
            code = model.OperatorCodes(op.OpcodeIndex())
            builtin = max(code.BuiltinCode(), code.DeprecatedBuiltinCode())
            ins = [op.Inputs(i) for i in range(op.InputsLength())]
            outs = [op.Outputs(i) for i in range(op.OutputsLength())]
            self.ops.append(self._compile(builtin, op, ins, outs))

    def _densified(self, path: Path, graph, model, sparse: list[int]) -> dict[int, np.ndarray]:
        """The DENSIFY ops' outputs (block-sparse weights made dense), read once from LiteRT,
        as a one-time conversion of the port would."""
        from ai_edge_litert.interpreter import Interpreter, OpResolverType

        interpreter = Interpreter(model_path=str(path), experimental_preserve_all_tensors=True,
                                  experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
        interpreter.allocate_tensors()
        interpreter.set_tensor(self.inputs[0], np.zeros(self.shapes[self.inputs[0]], np.float32))
        interpreter.invoke()
        dense = {}
        for k in range(graph.OperatorsLength()):
            op = graph.Operators(k)
            code = model.OperatorCodes(op.OpcodeIndex())
            if max(code.BuiltinCode(), code.DeprecatedBuiltinCode()) == self.p.BuiltinOperator.DENSIFY:
                dense[op.Outputs(0)] = interpreter.get_tensor(op.Outputs(0)).copy()
        return dense

    def _options(self, op, cls):
        table = op.BuiltinOptions()
        options = cls()
        options.Init(table.Bytes, table.Pos)
        return options

    def _weight(self, index: int) -> torch.Tensor:
        return torch.from_numpy(self.consts[index].astype(np.float32))

    def _compile(self, builtin: int, op, ins: list[int], outs: list[int]):
        p, ops = self.p, self.p.BuiltinOperator
        out = outs[0]
        if builtin == ops.DENSIFY:
            self.consts[out] = self.dense[out]
            return None
        if builtin == ops.DEQUANTIZE:
            self.consts[out] = self.consts[ins[0]].astype(np.float32)
            return None
        if builtin == ops.RESIZE_BILINEAR:
            o = self._options(op, p.ResizeBilinearOptions)
            size = tuple(int(v) for v in self.consts[ins[1]])
            align = o.AlignCorners()
            assert align or o.HalfPixelCenters(), "only align_corners or half_pixel_centers"
            return ins[0], lambda x: F.interpolate(x, size=size, mode="bilinear", align_corners=bool(align)), out
        if builtin == ops.DEPTH_TO_SPACE:
            block = self._options(op, p.DepthToSpaceOptions).BlockSize()

            def depth_to_space(x):  # TensorFlow's DCR order, unlike torch's pixel_shuffle
                b, c, h, w = x.shape
                x = x.permute(0, 2, 3, 1).reshape(b, h, w, block, block, c // block ** 2)
                return x.permute(0, 1, 3, 2, 4, 5).reshape(b, h * block, w * block, -1).permute(0, 3, 1, 2)
            return ins[0], depth_to_space, out
        if builtin in (ops.CONV_2D, ops.DEPTHWISE_CONV_2D):
            depthwise = builtin == ops.DEPTHWISE_CONV_2D
            o = self._options(op, p.DepthwiseConv2DOptions if depthwise else p.Conv2DOptions)
            weight = self._weight(ins[1])  # TFLite: (out, kh, kw, in) or (1, kh, kw, out)
            weight = weight.permute(3, 0, 1, 2) if depthwise else weight.permute(0, 3, 1, 2)
            bias = self._weight(ins[2]) if len(ins) > 2 and ins[2] >= 0 else None
            stride, act = (o.StrideH(), o.StrideW()), ACTIVATIONS[o.FusedActivationFunction()]
            same = o.Padding() == p.Padding.SAME
            groups = weight.shape[0] if depthwise else 1

            def conv(x):
                if same:
                    top, bottom = _same_pad(x.shape[2], weight.shape[2], stride[0])
                    left, right = _same_pad(x.shape[3], weight.shape[3], stride[1])
                    x = F.pad(x, (left, right, top, bottom))
                return act(F.conv2d(x, weight, bias, stride, groups=groups))
            return ins[0], conv, out
        if builtin == ops.MAX_POOL_2D:
            o = self._options(op, p.Pool2DOptions)
            kernel, stride = (o.FilterHeight(), o.FilterWidth()), (o.StrideH(), o.StrideW())
            same = o.Padding() == p.Padding.SAME

            def pool(x):
                if same:
                    top, bottom = _same_pad(x.shape[2], kernel[0], stride[0])
                    left, right = _same_pad(x.shape[3], kernel[1], stride[1])
                    x = F.pad(x, (left, right, top, bottom), value=float("-inf"))
                return F.max_pool2d(x, kernel, stride)
            return ins[0], pool, out
        if builtin == ops.PRELU:
            alpha = self._weight(ins[1]).reshape(1, -1, 1, 1)
            return ins[0], lambda x: torch.where(x >= 0, x, x * alpha), out
        if builtin == ops.RELU:
            return ins[0], F.relu, out
        if builtin == ops.ADD:
            act = ACTIVATIONS[self._options(op, p.AddOptions).FusedActivationFunction()]
            return tuple(ins), lambda a, b: act(a + b), out
        if builtin == ops.PAD:
            (_, _), (top, bottom), (left, right), (c0, c1) = self.consts[ins[1]]
            return ins[0], lambda x: F.pad(x, (int(left), int(right), int(top), int(bottom), int(c0), int(c1))), out
        if builtin == ops.RESHAPE:
            shape = self.shapes[out]
            # Back to TFLite's NHWC order before flattening, as the graph expects.
            return ins[0], lambda x: (x.permute(0, 2, 3, 1) if x.dim() == 4 else x).reshape(shape), out
        if builtin == ops.CONCATENATION:
            axis = self._options(op, p.ConcatenationOptions).Axis()
            return tuple(ins), lambda *xs: torch.cat(xs, dim=axis), out
        raise NotImplementedError(f"op {builtin}")

    @torch.inference_mode()
    def __call__(self, batch: np.ndarray) -> list[np.ndarray]:
        values = {self.inputs[0]: torch.from_numpy(np.ascontiguousarray(batch, np.float32)).permute(0, 3, 1, 2)}
        for step in self.ops:
            if step is None:
                continue
            source, fn, out = step
            values[out] = fn(*(values[i] for i in source)) if isinstance(source, tuple) else fn(values[source])
        results = []
        for index in self.outputs:
            value = values[index]
            value = value.permute(0, 2, 3, 1) if value.dim() == 4 else value
            results.append(value.reshape(self.shapes[index]).numpy())
        return results


def inputs_for(photos: list[Path]) -> dict[str, list[np.ndarray]]:
    """The exact tensors the pipeline hands each model on these photos."""
    seen: dict[str, list[np.ndarray]] = {}
    original = tflite.run

    def record(name, batch):
        seen.setdefault(name, []).append(batch.copy())
        return original(name, batch)

    tflite.run = record
    try:
        for path in photos:
            faces.find_faces(decode_image(path).rgb)
    finally:
        tflite.run = original
    return seen


def main() -> None:
    print(describe())
    photos = sorted((EVAL_DIR / "faces" / "images").glob("*.jpg"))
    recorded = inputs_for(photos)
    torch.set_num_threads(1)
    ports = {name: TorchGraph(face_model_path(name)) for name in load_face_spec().files}
    print("\nper model: calls, median ms per call LiteRT / PyTorch port (1 thread), largest output difference")
    for name, batches in recorded.items():
        lite_ms, port_ms, diff = [], [], 0.0
        for batch in batches:
            start = time.perf_counter()
            lite = tflite.run(name, batch)
            lite_ms.append(1000 * (time.perf_counter() - start))
            start = time.perf_counter()
            port = ports[name](batch)
            port_ms.append(1000 * (time.perf_counter() - start))
            diff = max(diff, max(float(np.abs(a - b).max()) for a, b in zip(lite, port)))
        print(f"  {name:40} {len(batches):4}  {np.median(lite_ms):6.2f} / {np.median(port_ms):6.2f}  {diff:.2e}")
    import ai_edge_litert

    size = sum(f.stat().st_size for f in Path(ai_edge_litert.__file__).parent.rglob("*") if f.is_file())
    print(f"\nai-edge-litert installed: {size / 1e6:.0f} MB; the port adds no package (torch is already required)")
    print("\nlandmark accuracy with the PyTorch port in place of LiteRT:")
    tflite.run = lambda name, batch: ports[name](batch)
    face_bench.accuracy(photos)


if __name__ == "__main__":
    main()
