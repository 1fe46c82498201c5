"""The native PyTorch ISNet against the released ONNX graph run by onnxruntime."""

import numpy as np
import pytest
import torch
from PIL import Image

from remover.engine.isnet import ISNet
from remover.engine.weights import load_spec, load_state_dict, obtain_onnx


@pytest.fixture(scope="module")
def model() -> ISNet:
    net = ISNet().eval()
    net.load_state_dict(load_state_dict(), strict=True)
    return net


def test_state_dict_matches_architecture_exactly(model):
    state = load_state_dict()
    assert set(state) == set(model.state_dict())
    assert len([k for k in state if k.endswith(".weight")]) == 119  # every Conv of the graph
    assert sum(p.numel() for p in model.parameters()) == pytest.approx(44.0e6, rel=0.01)


def test_torch_fp32_matches_onnxruntime_on_the_original_graph(model, astronaut):
    ort = pytest.importorskip("onnxruntime", reason="onnxruntime is a test dependency ('.[dev]')")
    square = np.asarray(Image.fromarray(astronaut).resize((1024, 1024), Image.Resampling.BILINEAR))
    x = (square.astype(np.float32) / 255.0 - 0.5).transpose(2, 0, 1)[None].copy()
    session = ort.InferenceSession(str(obtain_onnx(load_spec(), log=lambda *_: None)), providers=["CPUExecutionProvider"])
    outputs = session.run(None, {"input": x})
    with torch.inference_mode():
        ours = model(torch.from_numpy(x))
    assert len(ours) == 6
    assert ours[0].shape == (1, 1, 1024, 1024)
    diff = np.abs(ours[0].numpy() - outputs[0])
    assert diff.max() <= 2e-3, f"max abs difference {diff.max():.2e}"
    # The side outputs follow the same order as the graph's outputs 2..6.
    for side, ref in zip(ours[1:], outputs[1:6]):
        assert np.abs(side.numpy() - ref).max() <= 2e-3
    # A real prediction, not a constant: the astronaut is found in the middle of the frame.
    assert outputs[0][0, 0, 600, 400] > 0.9 and outputs[0][0, 0, 40, 980] < 0.1


def test_batch_and_odd_sizes_keep_shapes(model):
    x = torch.rand(2, 3, 320, 200) - 0.5
    with torch.inference_mode():
        out = model(x, side_outputs=False)
    assert len(out) == 1 and out[0].shape == (2, 1, 320, 200)
    assert 0.0 <= out[0].min() and out[0].max() <= 1.0
