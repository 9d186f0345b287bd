#!/usr/bin/env bash
# Install the system libraries of the OpenGL rasteriser (emocast/render/gl.py): Mesa's EGL and its
# llvmpipe driver, so moderngl can make a headless context on a machine with no GPU. Run as root on
# Debian; skips what is there. Without them EmoCAST falls back to its CPU rasteriser (same mesh).
set -euo pipefail
if ldconfig -p | grep -q libEGL_mesa.so && ls /usr/lib/*/dri/swrast_dri.so >/dev/null 2>&1; then
    exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "install-gl: cannot install libegl-mesa0 libgl1-mesa-dri here (not root on Debian); the CPU rasteriser will be used" >&2
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends libegl1 libegl-mesa0 libgl1-mesa-dri >/dev/null
