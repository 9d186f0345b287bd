"""Run every judge on one video: :func:`evaluate` (files) and :func:`evaluate_arrays` (arrays)."""
from __future__ import annotations

import math
import os
import time

import numpy as np

from ..errors import InputError
from . import dlib_face
from .emotion import NEUTRAL_MAX_APERTURE, frame_probs, intended_class, judge_emotion
from .identity import judge_identity
from .lipsync import judge_lip_sync
from .stability import judge_stability

FRAME_BUDGET_BYTES = 2 << 30
"""Decoded frames are shrunk (uniformly) when the whole video would take more memory than this."""
MAX_EMOTION_FRAMES = 300
"""Longer videos are classified on every k-th frame so at most this many frames are judged."""


def limit_threads() -> None:
    """One torch thread unless ``EMOCAST_THREADS`` says otherwise (the judges' networks are tiny;
    more threads only contend). Called by the CLI, not by the library functions."""
    try:
        import torch

        torch.set_num_threads(int(os.environ.get("EMOCAST_THREADS", "1")))
    except ImportError:  # pragma: no cover
        pass


def _speech(wav: np.ndarray, transcript: str | None, fps: float):
    """Phones and the per-frame loudness envelope from :mod:`emocast.speech` (``None`` if absent)."""
    try:
        from ..speech import BILABIALS, OPEN_VOWELS, analyse
        from ..speech.acoustic import loudness_envelope
    except ImportError as e:  # the speech stage is part of the package; guard for partial installs
        return None, None, None, None, f"speech analysis unavailable ({e})"
    sa = analyse(wav, transcript=transcript)
    return sa.phones, loudness_envelope(wav, 16000, fps), BILABIALS, OPEN_VOWELS, sa.phone_source


def evaluate_arrays(frames: np.ndarray, fps: float, portrait: np.ndarray, wav: np.ndarray,
                    emotion: str | None = None, transcript: str | None = None,
                    syncnet: str | None = None, inception: str | None = None, reference: str | None = None,
                    progress: bool = False, portrait_name: str = "portrait") -> dict:
    """All judges on decoded media.

    Args:
        frames: ``uint8 (T, H, W, 3)`` RGB video frames.
        fps: frames per second.
        portrait: ``uint8 (H, W, 3)`` RGB input portrait.
        wav: ``float32`` 16 kHz mono input audio (what the video should be synced to).
        emotion: intended MEAD emotion (or alias), or ``None``.
        transcript: words of the audio (improves phone timings), or ``None``.
        syncnet: path of SyncNet weights for LSE-D/LSE-C, or ``None``.
        inception, reference: TorchScript Inception and a reference folder for FID (both or neither).
        progress: show tqdm bars on stderr.

    Returns:
        dict with ``emotion``, ``identity``, ``lip_sync``, ``stability`` (see each judge), ``fid``
        when asked, and ``video`` facts (``frames``, ``fps``, ``duration_s``, ``audio_s``) and
        ``timing_s`` per judge.

    Raises:
        InputError: unknown emotion, no face in the portrait, bad SyncNet/Inception file or
            reference folder, FID asked with only one of inception/reference.
    """
    _check_request(emotion, inception, reference)
    # load user weights first: a bad path should fail before minutes of judging
    sync_model = _user_syncnet(syncnet, fps)
    inc_model, ref = _user_inception(inception, reference, frames)
    res: dict = {"video": _video_facts(frames, fps, wav)}
    timing: dict[str, float] = {}
    bar = _judging_bar(len(frames)) if progress else None
    tick = (lambda i: bar.update(1)) if bar else None
    track = _timed(timing, "dlib_landmarks", dlib_face.track, frames, progress=tick)
    res["emotion"] = _timed(timing, "emotion", _emotion, frames, emotion, bar, track)
    if bar:
        bar.close()
    res["identity"] = _timed(timing, "identity", judge_identity, portrait, frames, track=track,
                             portrait_name=portrait_name)
    speech = _timed(timing, "speech_analysis", _speech, wav, transcript, fps)
    res["lip_sync"] = _timed(timing, "lip_sync", _lip_sync, frames, fps, wav, track, speech, sync_model)
    res["stability"] = _timed(timing, "stability", judge_stability, frames, track.landmarks)
    if inc_model is not None:
        res["fid"] = _timed(timing, "fid", _fid, inc_model, frames, ref, inception)
    res["timing_s"] = {k: round(v, 3) for k, v in timing.items()}
    return res


def _check_request(emotion: str | None, inception: str | None, reference: str | None) -> None:
    """Fail early on an unknown emotion, or on FID asked with only one of its two inputs."""
    intended_class(emotion)
    if (inception is None) != (reference is None):
        raise InputError("--inception" if inception is None else "--reference",
                         "FID needs both --inception (weights) and --reference (folder)")


def _user_syncnet(syncnet: str | None, fps: float):
    """The user's SyncNet (``None`` if not asked); its scores need a 25 fps video."""
    if syncnet is None:
        return None
    from .syncnet import load_syncnet

    sync_model = load_syncnet(syncnet)
    if abs(fps - 25.0) > 0.01:
        raise InputError("--syncnet", f"SyncNet scores need a 25 fps video (this one is {fps:g} fps)")
    return sync_model


def _user_inception(inception: str | None, reference: str | None, frames: np.ndarray):
    """The user's Inception and the reference images at the video's size, or ``(None, None)``."""
    if inception is None:
        return None, None
    from .fid import load_inception, load_reference

    inc_model = load_inception(inception)
    return inc_model, load_reference(reference, size=(frames.shape[2], frames.shape[1]))


def _video_facts(frames: np.ndarray, fps: float, wav: np.ndarray) -> dict:
    """Frames, fps, durations and size of the video, with a note when video and audio lengths differ."""
    t_all = len(frames)
    facts = {"frames": int(t_all), "fps": float(fps), "duration_s": round(t_all / fps, 3),
             "audio_s": round(len(wav) / 16000, 3), "size": [int(frames.shape[2]), int(frames.shape[1])]}
    if abs(t_all / fps - len(wav) / 16000) > 0.25:
        facts["note"] = "video and audio durations differ by more than 0.25 s"
    return facts


def _judging_bar(t_all: int):
    """tqdm bar over the two per-frame passes (landmarks, emotion)."""
    from tqdm import tqdm

    return tqdm(total=2 * t_all, desc="judging frames", unit="frame", leave=False)


def _timed(timing: dict[str, float], key: str, fn, /, *args, **kwargs):
    """``fn(*args, **kwargs)``, its wall-clock seconds recorded as ``timing[key]``."""
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    timing[key] = time.perf_counter() - t0
    return out


def _emotion(frames: np.ndarray, emotion: str | None, bar, track=None) -> dict:
    """Emotion judge on every k-th frame (at most :data:`MAX_EMOTION_FRAMES` of them); neutral on the
    closed-lip ones among them when the dlib ``track`` is given (:data:`NEUTRAL_MAX_APERTURE`)."""
    stride = max(1, math.ceil(len(frames) / MAX_EMOTION_FRAMES))
    probs = frame_probs(frames, stride=stride, progress=(lambda i: bar.update(stride)) if bar else None)
    closed = None
    if track is not None:
        from .lipsync import mouth_aperture

        with np.errstate(invalid="ignore"):
            closed = (mouth_aperture(track.landmarks) < NEUTRAL_MAX_APERTURE)[::stride]
    res = judge_emotion(probs[::stride], emotion, closed_lips=closed)
    res["frame_stride"] = stride
    return res


def _lip_sync(frames: np.ndarray, fps: float, wav: np.ndarray, track, speech: tuple, sync_model) -> dict:
    """Lip-sync judge on the tracked landmarks and the analysed speech, plus LSE-D/LSE-C with SyncNet."""
    phones, env, bil, ov, source = speech
    kw = {} if bil is None else {"bilabials": bil, "open_vowels": ov}
    res = judge_lip_sync(track.landmarks, fps, wav, phones=phones, envelope=env, **kw)
    res["phone_source"] = source
    if sync_model is not None:
        from .syncnet import face_crops, lse

        if not track.found.any():
            res.update(lse_d=None, lse_c=None)
        else:
            res.update(lse(sync_model, face_crops(frames, track.boxes), wav))
            res["lse_judge"] = "SyncNet (user weights), Wav2Lip LSE protocol"
    return res


def _fid(inc_model, frames: np.ndarray, ref, inception: str) -> dict:
    """FID of (at most about 200 of) the frames against the reference images."""
    from .fid import fid

    res = fid(inc_model, frames[:: max(1, len(frames) // 200)], ref)
    res["judge"] = f"Inception features ({os.path.basename(os.fspath(inception))})"
    return res


def load_frames(path: str | os.PathLike, budget: int = FRAME_BUDGET_BYTES) -> tuple[np.ndarray, float, float]:
    """Decode every frame of a video, shrinking them when the video would not fit in ``budget`` bytes.

    Returns:
        ``(frames, fps, scale)``: ``uint8 (T, H, W, 3)`` RGB, frames per second, and the scale applied
        to each side (1.0 = original size).

    Raises:
        InputError: missing or unreadable file, no video stream, no frames.
    """
    from ..media import read_video

    frames, fps, _, scale = read_video(path, with_audio=False, budget_bytes=budget, return_scale=True)
    return frames, fps, scale


def evaluate(video: str | os.PathLike, image: str | os.PathLike, audio: str | os.PathLike,
             emotion: str | None = None, transcript: str | None = None, syncnet: str | None = None,
             inception: str | None = None, reference: str | None = None, progress: bool = False) -> dict:
    """Judge a talking-head video against the portrait and audio it was made from.

    Args:
        video: the generated mp4 (any format PyAV reads).
        image: the input portrait.
        audio: the input speech (the judges use this, not the video's own track).
        emotion, transcript, syncnet, inception, reference, progress: see :func:`evaluate_arrays`.

    Returns:
        see :func:`evaluate_arrays`; also ``inputs`` (the three paths) and ``emotion_requested``.

    Raises:
        InputError: unreadable inputs, and the cases of :func:`evaluate_arrays`.
    """
    from ..media import load_audio, load_image

    intended_class(emotion)
    frames, fps, scale = load_frames(video)
    portrait = load_image(image)
    wav = load_audio(audio)
    res = evaluate_arrays(frames, fps, portrait, wav, emotion=emotion, transcript=transcript, syncnet=syncnet,
                          inception=inception, reference=reference, progress=progress,
                          portrait_name=os.fspath(image))
    if scale < 1.0:
        res["video"]["decoded_scale"] = round(scale, 4)
        res["video"]["note"] = (res["video"].get("note", "") + f" frames judged at {scale:.2f}x size to fit in memory").strip()
    res = {"inputs": {"video": os.fspath(video), "image": os.fspath(image), "audio": os.fspath(audio),
                      "emotion": emotion, "transcript": transcript}, **res}
    return res


def _fmt(v, nd=3) -> str:
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return "-" if not math.isfinite(v) else f"{v:.{nd}f}"
    return str(v)


def format_table(res: dict) -> str:
    """Plain-text table of the headline figures of :func:`evaluate`'s result."""
    e, i, ls, s = res["emotion"], res["identity"], res["lip_sync"], res["stability"]
    rows: list[tuple[str, str, str]] = []
    add = lambda name, val, note="": rows.append((name, val, note))  # noqa: E731
    on = e.get("judged_on", "all frames")
    add("emotion: top class (video)", _fmt(e["top_class"]), f"p={_fmt(e['top_prob'])}" + (
        f", over the {e['frames_judged']} closed-lip frames" if on == "closed-lip frames" else ""))
    if e["judged"]:
        add(f"emotion: accuracy vs '{e['intended']}'", _fmt(e["accuracy"]),
            f"share of {e.get('frames_judged', e['frames_with_face'])} {'closed-lip ' if on != 'all frames' else ''}"
            f"frames whose top class is {e['intended_fer_class']}")
        add(f"emotion: p({e['intended_fer_class']}) mean", _fmt(e["intended_prob_mean"]), "")
    else:
        add("emotion: accuracy", "not judged", e.get("note", ""))
    add("identity: distance mean", _fmt(i["mean_distance"]), f"< {i['threshold']} = same person")
    add("identity: distance max", _fmt(i["max_distance"]), f"{i['frames_with_face']}/{i['frames_sampled']} frames")
    add("lip sync: offset (frames)", _fmt(ls["offset_frames"]),
        "+ = audio lags video" + (f", {_fmt(ls['offset_ms'], 0)} ms" if ls["offset_ms"] is not None else ""))
    add("lip sync: sync peak corr", _fmt(ls["sync_peak_corr"]), f"confidence {_fmt(ls['sync_confidence'])}")
    add("lip sync: envelope corr", _fmt(ls["envelope_correlation"]), "aperture vs loudness, lag 0")
    add("lip sync: p/b/m closed", _fmt(ls["bilabial_closed"]), f"n={ls['n_bilabial']}, phones: {ls.get('phone_source')}")
    add("lip sync: open vowels open", _fmt(ls["open_vowel_open"]), f"n={ls['n_open_vowel']}")
    add("lip sync: mouth moves", _fmt(ls["mouth_moves"]),
        f"aperture range {_fmt(ls['aperture_range'])}" + ("  ** FROZEN MOUTH **" if ls.get("frozen_mouth") else ""))
    if "lse_d" in ls:
        add("lip sync: LSE-D / LSE-C", f"{_fmt(ls['lse_d'])} / {_fmt(ls['lse_c'])}", "SyncNet")
    add("stability: landmark jitter", _fmt(s["jitter_mean"], 4), f"x inter-ocular; {_fmt(s['jitter_px'], 2)} px")
    add("stability: background motion", _fmt(s["background_motion"]),
        f"grey levels/frame, area {_fmt(s['background_area'], 2)}, drift {_fmt(s['background_drift'])}")
    if "fid" in res:
        add("FID", _fmt(res["fid"]["fid"], 2), f"{res['fid']['n_frames']} vs {res['fid']['n_reference']} images")
    w0 = max(len(r[0]) for r in rows)
    w1 = max(len(r[1]) for r in rows)
    lines = [f"{'figure'.ljust(w0)}  {'value'.rjust(w1)}  note", "-" * (w0 + w1 + 30)]
    lines += [f"{a.ljust(w0)}  {b.rjust(w1)}  {c}".rstrip() for a, b, c in rows]
    lines.append(f"judges: emotion = {e['judge']}; identity = {i['judge']}; lip sync = {ls['judge']}")
    return "\n".join(lines)
