"""Make sure the released ONNX graph is at hand, from the sources `manage.py fetch_models` uses.

Serving needs only the converted weights; tests/engine/test_isnet.py and test_weights.py also
compare them with the graph itself, so `make test` runs this after `fetch_models`.
"""

import sys

from remover.engine.weights import WeightsError, load_spec, obtain_onnx

if __name__ == "__main__":
    try:
        obtain_onnx(load_spec())
    except WeightsError as exc:
        sys.exit(str(exc))
