"""Render speed of the CPU engine, beside the two floors it is measured against.

For each portrait (default: the astronaut and AniPortrait_Aragaki from ../shared/fixtures) at 512²
and 1024² it prints, in one table:

- ``render gl`` / ``render cpu``: frames per second of the render alone (warp + texture + eyes +
  mouth, no encoding) with the OpenGL and the CPU rasteriser;
- ``re-encode``: PyAV libx264 (veryfast, crf 18) re-encoding the same frames;
- ``remap``: a bare ``cv2.remap`` of the frame (the warp's floor);
- the ratio of the engine (OpenGL) to each floor;

then the whole ``emocast generate`` command (a fresh process) against the audio's length with one and
with two processes (``--render-processes``), and the start-up time to the first frame handed to the
encoder, split by stage (:data:`STAGES`).

    .venv/bin/python benchmarks/render_speed.py [--image P ...] [--audio speech.wav] [--seconds 12]
                                                [--frames 100] [--long 600]

Targets (issue: four times faster than real time): render ≥ 100 fps at 512², end to end ≥ 4× real
time at 512² and ≥ 1.5× at 1024², first frame ≤ 2 s for a label emotion and ≤ 3 s for free text,
10 minutes of speech (``--long 600``) in ≤ 1 GiB peak resident memory.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "fixtures")
SPEECH = os.path.join(FIXTURES, "speech", "SadTalker_RD_Radio36_000.wav")
"""The issue's speech clip, looped to length."""


def _motion(n: int):
    from emocast.rig import AU_INDEX, AU_NAMES

    aus = np.zeros((n, len(AU_NAMES)), np.float32)
    t = np.arange(n) / 25.0
    aus[:, AU_INDEX["AU26"]] = 0.5 + 0.5 * np.sin(2 * np.pi * 3 * t)
    aus[:, AU_INDEX["AU25"]] = 1.0
    aus[:, AU_INDEX["AU12"]] = 0.8
    pose = np.stack([2 * np.sin(t), np.sin(0.7 * t), 0.5 * np.sin(0.3 * t)], 1).astype(np.float32)
    return aus, pose


def speeds(image: np.ndarray, size: int, n: int) -> dict:
    """Frames per second of the render (both rasterisers), the re-encode and a bare remap."""
    import cv2

    from emocast.engines.fit import fit_portrait
    from emocast.face import analyse
    from emocast.media.video import VideoWriter
    from emocast.render import CPURenderer

    img, face = fit_portrait(image, analyse(image), size)
    r = CPURenderer(img, face)
    aus, pose = _motion(n)
    out = {}
    frames = []
    for mode in ("gl", "cpu"):
        if mode == "gl" and r.warper.rasteriser != "gl":
            out["render gl"] = float("nan")
            continue
        r.warper.rasteriser = mode
        r.render(aus[0], pose[0])
        t0 = time.perf_counter()
        frames = [r.render(aus[i], pose[i], 1.0, 0.2) for i in range(n)]
        out[f"render {mode}"] = n / (time.perf_counter() - t0)
    with tempfile.TemporaryDirectory() as d:
        t0 = time.perf_counter()
        with VideoWriter(os.path.join(d, "x.mp4"), img.shape[1], img.shape[0], threaded=False) as vw:
            for f in frames:
                vw.write(f)
        out["re-encode"] = n / (time.perf_counter() - t0)
    h, w = img.shape[:2]
    mx, my = np.meshgrid(np.arange(w, dtype=np.float32) + 0.3, np.arange(h, dtype=np.float32) + 0.2)
    t0 = time.perf_counter()
    for f in frames:
        cv2.remap(f, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    out["remap"] = n / (time.perf_counter() - t0)
    return out


STARTUP = r"""
import sys, time, json
t0 = time.perf_counter()
import emocast.api as A
marks = {"import": time.perf_counter() - t0}
reporters = []


class KeepReporter(A.Reporter):  # the run is stopped at its first frame: keep its reporter for the timings
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        reporters.append(self)


A.Reporter = KeepReporter
first = []

def progress(fraction, message):
    if message.startswith("frame") and not first:
        first.append(time.perf_counter() - t0)
        raise KeyboardInterrupt  # stop after the first frame: the output is never written

try:
    A.generate(sys.argv[1], audio=sys.argv[2], emotion=sys.argv[3], output=sys.argv[5], size=int(sys.argv[4]),
               render_processes=int(sys.argv[6]), progress=progress)
except KeyboardInterrupt:
    pass
t = reporters[0].info.timings
marks.update({"setup": t["setup_s"], "speech": t["speech_s"], "face": t["face_s"], "emotion": t["emotion_s"]})
marks["first frame"] = first[0] - sum(marks.values())
marks["total"] = first[0]
print(json.dumps(marks))
"""
STAGES = ("import", "setup", "speech", "face", "emotion", "first frame", "total")
"""Start-up split: imports; checks, the engine's imports and the worker's start; the speech analysis;
the face (found in the worker meanwhile with two processes; waited for and fitted here); the emotion;
the first frame handed to the encoder."""


def startup(image_path: str, audio: str, emotion: str, size: int, processes: int) -> dict:
    """Seconds from process start to the first frame handed to the encoder, split by :data:`STAGES`."""
    import json

    with tempfile.TemporaryDirectory() as d:
        r = subprocess.run([sys.executable, "-c", STARTUP, image_path, audio, emotion, str(size),
                            os.path.join(d, "o.mp4"), str(processes)], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"start-up run failed: {r.stderr[-800:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


HWM = r"""
import sys
from emocast.engines import workers

peaks = []
close = workers.RenderWorker.close

def close_and_measure(self, now=False):  # the worker's own peak, read just before it ends
    try:
        peaks.extend(int(l.split()[1]) for l in open(f"/proc/{self._proc.pid}/status") if l.startswith("VmHWM"))
    except OSError:
        pass
    close(self, now)

workers.RenderWorker.close = close_and_measure
from emocast.cli import main
rc = main(sys.argv[1:])
hwm = [int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM")]
print("VmHWM", sum(hwm + peaks), file=sys.stderr, flush=True)
import os
os._exit(rc)  # as the emocast executable ends a generate (emocast.cli.run)
"""


def end_to_end(image_path: str, audio: str, size: int, processes: int, emotion: str = "happy") -> tuple[float, float]:
    """``emocast generate`` as a fresh process: ``(wall seconds, peak resident memory in MiB)``.

    The peak is the sum of each process's own ``VmHWM`` (``/proc/PID/status``; the worker's read as it
    ends): ``ru_maxrss`` of a child counts the forking parent's pages from before the ``exec``."""
    with tempfile.TemporaryDirectory() as d:
        t0 = time.perf_counter()
        r = subprocess.run([sys.executable, "-c", HWM, "generate", "--image", image_path, "--audio", audio,
                            "--emotion", emotion, "--size", str(size), "--render-processes", str(processes), "-q",
                            "-o", os.path.join(d, "o.mp4")], capture_output=True, text=True)
        wall = time.perf_counter() - t0
        if r.returncode != 0:
            raise RuntimeError(f"emocast generate failed: {r.stderr[-500:]}")
        kib = [ln.split()[1] for ln in r.stderr.splitlines() if ln.startswith("VmHWM")]
        return wall, float(kib[-1]) / 1024 if kib else float("nan")


def looped(audio: str, seconds: float, folder: str) -> str:
    """``audio`` repeated to ``seconds`` as a 16 kHz WAV in ``folder`` (the issue's looped clip)."""
    from emocast.media import load_audio
    from emocast.media.audio import write_wav

    return write_wav(os.path.join(folder, f"speech{seconds:g}s.wav"),
                     np.resize(load_audio(audio), int(seconds * 16000)))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--image", nargs="+", help="portraits (default: astronaut and AniPortrait_Aragaki)")
    ap.add_argument("--audio", help="speech file (default: the fixtures' SadTalker_RD_Radio36_000.wav looped to "
                                    "--seconds)")
    ap.add_argument("--seconds", type=float, default=12.0, help="length of the default looped speech, s")
    ap.add_argument("--long", type=float, default=0.0,
                    help="also time a clip this many seconds long (e.g. 600) at 512² and report peak memory")
    ap.add_argument("--frames", type=int, default=100, help="frames per render measurement")
    ap.add_argument("--repeat", type=int, default=3,
                    help="runs of each end-to-end and start-up measurement; the median is shown, with the range "
                         "(shared cores vary by ±20 %% from run to run)")
    args = ap.parse_args()
    from PIL import Image

    from emocast.media import load_audio, load_image
    from emocast.render.gl import backend

    with tempfile.TemporaryDirectory() as d:
        images = args.image
        if not images:
            import skimage.data

            astro = os.path.join(d, "astronaut.png")
            Image.fromarray(skimage.data.astronaut()).save(astro)
            images = [astro, os.path.join(FIXTURES, "portraits", "AniPortrait_Aragaki.png")]
        audio = args.audio or looped(SPEECH, args.seconds, d)
        dur = len(load_audio(audio)) / 16000
        print(f"cores: {os.cpu_count()}; rasteriser: {' '.join(backend())}; audio {os.path.basename(audio)} {dur:.1f} s")
        print("| portrait | size | render gl | render cpu | re-encode | remap | gl / re-encode | gl / remap |"
              f" end to end, 1 process (median of {args.repeat}) | x real time | peak memory |"
              f" end to end, 2 processes | x real time |"
              " peak memory |")
        print("|---" * 14 + "|")
        for path in images:
            image = load_image(path)
            for size in (512, 1024):
                s = speeds(image, size, args.frames)
                row = [os.path.basename(path), size] + [f"{s[k]:.1f}" for k in ("render gl", "render cpu",
                                                                                  "re-encode", "remap")]
                row += [f"{s['render gl'] / s['re-encode']:.2f}", f"{s['render gl'] / s['remap']:.2f}"]
                for processes in (1, 2):
                    runs = [end_to_end(path, audio, size, processes) for _ in range(args.repeat)]
                    wall, rss = float(np.median([w for w, _ in runs])), max(r for _, r in runs)
                    spread = f" ({min(w for w, _ in runs):.1f}-{max(w for w, _ in runs):.1f})" if args.repeat > 1 else ""
                    row += [f"{wall:.1f} s{spread}", f"{dur / wall:.2f}", f"{rss:.0f} MiB"]
                print("| " + " | ".join(map(str, row)) + " |")
        if args.long:
            long_audio = looped(SPEECH, args.long, d)
            for processes in (1, 2):
                wall, rss = end_to_end(images[-1], long_audio, 512, processes)
                print(f"\n{args.long:g} s of speech, {os.path.basename(images[-1])} 512², {processes} process"
                      f"{'es' if processes > 1 else ''}: {wall:.1f} s wall, {args.long / wall:.2f}x real time, "
                      f"peak resident memory {rss:.0f} MiB")
        print()
        print(f"| start-up to first frame (512, fresh process, s; medians of {args.repeat}) | processes | " + " | ".join(STAGES) + " |")
        print("|---" * (len(STAGES) + 2) + "|")
        for emotion in ("happy", "nervous but trying to smile"):
            for processes in (1, 2):
                runs = [startup(images[-1], audio, emotion, 512, processes) for _ in range(args.repeat)]
                m = {k: float(np.median([r[k] for r in runs])) for k in STAGES}
                print(f"| {emotion} | {processes} | " + " | ".join(f"{m[k]:.2f}" for k in STAGES) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
