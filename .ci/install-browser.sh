#!/usr/bin/env bash
# Install what tests/serve/test_browser.py needs to drive `emocast serve` in a real browser:
# Debian's Chromium (/usr/bin/chromium) and Playwright's Python package, which drives that Chromium
# through `executable_path` (`playwright install` would download a browser build, which cannot be
# fetched here, so it is never run). Also installs the `serve` extra (Gradio).
#
# Run as root on Debian (CI and developer machines), from the repository root, with the project's
# Python first on PATH (or PYTHON=/path/to/python). Safe to run again: skips what is already there.
# Afterwards `EMOCAST_REQUIRE_BROWSER=1 python -m pytest tests/serve` fails instead of skipping when
# the browser is missing.
set -euo pipefail

PYTHON="${PYTHON:-python}"
PLAYWRIGHT_VERSION="1.65.2"   # tested with Debian bookworm's chromium 156
GRADIO_SPEC="gradio>=6.0,<7"  # the `serve` extra of pyproject.toml (tested with 6.31.0)

if [ ! -x /usr/bin/chromium ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # fonts-dejavu-core: readable text in screenshots on a bare machine
    apt-get install -y -qq chromium fonts-dejavu-core >/dev/null
fi
/usr/bin/chromium --version 2>/dev/null

if ! "$PYTHON" -c "import playwright, gradio" 2>/dev/null; then
    # gradio needs no protobuf, so mediapipe's protobuf<5 stays; torch and numpy are left alone
    "$PYTHON" -m pip install -q "playwright==${PLAYWRIGHT_VERSION}" "${GRADIO_SPEC}"
fi
"$PYTHON" - <<'PY'
from importlib.metadata import PackageNotFoundError, version

have = {}
for name in ("gradio", "playwright", "protobuf", "torch", "numpy"):
    try:
        have[name] = version(name)
    except PackageNotFoundError:
        have[name] = "-"
print(", ".join(f"{k} {v}" for k, v in have.items()))
assert have["protobuf"] == "-" or int(have["protobuf"].split(".")[0]) < 5, "protobuf>=5 breaks mediapipe 0.10.14"
PY
