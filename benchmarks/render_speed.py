"""Render speed of the CPU engine.

Prints frames per second of the render alone (warp + mouth, no encoding) at 512² and 1024², and the
whole `emocast generate` command's wall time (a fresh process: imports, face, speech, render, encode)
against the audio's duration. Target: faster than real time end to end on 2 cores at 512².

    .venv/bin/python benchmarks/render_speed.py [--audio speech.wav] [--image portrait.png]

Without arguments it uses the astronaut portrait and an eSpeak NG sentence (about 10 s).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

TEXT = ("The shuttle rolled out to the pad before dawn. We checked every system twice, then waited for the "
        "weather to clear. When the engines lit, the whole cabin shook, and eight minutes later we were in orbit.")


def render_fps(image: np.ndarray, size: int, n: int = 100) -> float:
    import cv2

    from emocast.face import analyse
    from emocast.rig import AU_INDEX, AU_NAMES
    from emocast.render import CPURenderer

    s = size / max(image.shape[:2])
    img = cv2.resize(image, (round(image.shape[1] * s / 2) * 2, round(image.shape[0] * s / 2) * 2), interpolation=cv2.INTER_CUBIC)
    face = analyse(img)
    r = CPURenderer(img, face)
    aus = np.zeros((n, len(AU_NAMES)), np.float32)
    t = np.arange(n) / 25.0
    aus[:, AU_INDEX["AU26"]] = 0.5 + 0.5 * np.sin(2 * np.pi * 3 * t)
    aus[:, AU_INDEX["AU25"]] = 1.0
    aus[:, AU_INDEX["AU12"]] = 0.8
    pose = np.stack([2 * np.sin(t), np.sin(0.7 * t), 0.5 * np.sin(0.3 * t)], 1).astype(np.float32)
    r.render(aus[0], pose[0])
    t0 = time.perf_counter()
    for i in range(n):
        r.render(aus[i], pose[i], 1.0, 0.2)
    return n / (time.perf_counter() - t0)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--image", help="portrait (default: astronaut)")
    ap.add_argument("--audio", help="speech file (default: a TTS sentence)")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    args = ap.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    from PIL import Image

    from emocast.media import load_audio, load_image

    with tempfile.TemporaryDirectory() as d:
        img_path = args.image
        if not img_path:
            import skimage.data

            img_path = os.path.join(d, "astronaut.png")
            Image.fromarray(skimage.data.astronaut()).save(img_path)
        image = load_image(img_path)
        print(f"portrait: {img_path} {image.shape[1]}x{image.shape[0]}; cores: {os.cpu_count()}")
        for size in (512, 1024):
            print(f"render only   {size:>4}²: {render_fps(image, size):6.1f} frames/s")
        src = ["--audio", args.audio] if args.audio else ["--text", TEXT]
        if args.audio:
            dur = len(load_audio(args.audio)) / 16000
        else:
            from emocast.speech.tts import synthesize

            r = synthesize(TEXT)
            dur = len(r.audio) / r.sr
        for size in (512, 1024):
            out = os.path.join(d, f"o{size}.mp4")
            cmd = [sys.executable, "-m", "emocast", "generate", "--image", img_path, *src, "--emotion", "happy",
                   "--size", str(size), "-q", "-o", out]
            t0 = time.perf_counter()
            subprocess.run(cmd, check=True, capture_output=True)
            wall = time.perf_counter() - t0
            print(f"end to end    {size:>4}²: {wall:5.1f} s for {dur:.1f} s of audio = {dur / wall:4.2f}x real time")
    return 0


if __name__ == "__main__":
    sys.exit(main())
