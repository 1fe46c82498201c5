"""Run the face models (``.tflite`` files fetched at set-up into ``models/mediapipe/``) with LiteRT.

LiteRT (``ai-edge-litert``) was chosen over a PyTorch port by measurement (BENCHMARKS.md):
the same answers, a few milliseconds per model on one thread, no conversion step.
One interpreter per model and process, loaded on first use; a lock serialises calls, since an
interpreter holds its tensors between ``set_tensor`` and ``get_tensor``.
"""

from __future__ import annotations

import functools
import threading

import numpy as np

from remover.engine.weights import WeightsError, face_model_path


class _Model:
    def __init__(self, name: str):
        from ai_edge_litert.interpreter import Interpreter

        # One thread: each model takes milliseconds, and the segmenter already uses the cores.
        self.interpreter = Interpreter(model_path=str(face_model_path(name)), num_threads=1)
        self.interpreter.allocate_tensors()
        self.input = self.interpreter.get_input_details()[0]["index"]
        self.outputs = [d["index"] for d in self.interpreter.get_output_details()]
        self.lock = threading.Lock()

    def __call__(self, batch: np.ndarray) -> list[np.ndarray]:
        with self.lock:
            self.interpreter.set_tensor(self.input, np.ascontiguousarray(batch, np.float32))
            self.interpreter.invoke()
            return [self.interpreter.get_tensor(i).copy() for i in self.outputs]


@functools.cache
def _model(name: str) -> _Model:
    return _Model(name)


def run(name: str, batch: np.ndarray) -> list[np.ndarray]:
    """The outputs of model file ``name`` for ``batch`` (1, H, W, 3) float32, in the model's order.

    Raises WeightsError (with the command that fixes it) when the file was never fetched.
    """
    try:
        return _model(name)(batch)
    except ModuleNotFoundError as exc:
        raise WeightsError("ai-edge-litert is not installed: pip install -e . (it runs the face models)") from exc
