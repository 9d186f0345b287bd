"""Training samples from an ``emocast dataset`` folder, with emotion-aware sampling (paper Sec. 3.4.1).

Sample ``i`` of a run is a pure function of ``(seed, i)``: which clip (drawn by the phase's corpus weights),
which frames, which reference, which description and which guidance conditions are dropped. So a resumed run
continues the same plan at the step it stopped at, and never repeats or skips a batch.

The reference image of every sample comes from the clip's manifest ``reference``: a neutral clip of the same
identity (a frame the labeller read as neutral with closed lips, when there is one), else neutral frames from
the same video, else the recorded fallback (the clip's own first frame). Stage-2 motion frames are the two
frames before the target window, or the reference image repeated when the window starts the clip (as at
inference on a first clip).
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass

import cv2
import numpy as np

from ..dataset.clip import box_corners
from ..dataset.manifest import read_manifest
from ..errors import InputError
from ..media.video import iter_frames
from ..neural.masks import MP_FACE_OVAL, MP_LIPS_OUTER, region_masks
from .config import TrainConfig

REGIONS = ("full", "face", "lip")


@dataclass
class Sample:
    """One training sample (``S`` = ``cfg.size``, ``F`` = ``cfg.clip_frames``, ``M`` = motion frames).

    Attributes:
        index: the sample's number in the run's plan.
        clip / reference_clip: manifest ids; reference_from: how the reference was chosen.
        target: ``float32 (F, 3, S, S)`` in [-1, 1]; reference: ``(3, S, S)``; motion: ``(M, 3, S, S)`` (stage 2).
        text: the emotive description; face_embedding: ``float32 (E,)`` (zeros when the dataset has none).
        box: ``float32 (S, S)`` face-locator box image; masks: region -> per-level ``float32 (side², )``.
        start: first target frame in the clip; drop: ``(text, reference, audio)`` dropped for CFG.
    """

    index: int
    clip: str
    reference_clip: str
    reference_from: str
    target: np.ndarray
    reference: np.ndarray
    motion: np.ndarray | None
    text: str
    face_embedding: np.ndarray
    box: np.ndarray
    masks: dict
    start: int
    drop: tuple


class TrainingSet:
    """Accepted ``train`` clips of a dataset for one stage and phase.

    Raises:
        InputError: no manifest, no clip of the phase's corpora, a missing clip file, or no descriptions.
    """

    def __init__(self, folder: str, cfg: TrainConfig, phase: int, face_embed_dim: int, n_levels: int):
        self.folder, self.cfg, self.phase = folder, cfg, phase
        self.face_embed_dim, self.n_levels = face_embed_dim, n_levels
        recs = [r for r in read_manifest(folder, accepted_only=True) if r.get("split", "train") == "train"]
        weights = cfg.phase_weights[str(phase)]
        need = cfg.clip_frames + (cfg.motion_frames if cfg.stage == 2 else 0)
        self.records = [r for r in recs if weights.get(r["corpus"], 0) > 0 and r["n_frames"] >= cfg.clip_frames]
        if not self.records:
            raise InputError(folder, f"no training clip for phase {phase} (corpora {', '.join(sorted(weights))}, "
                             f"at least {cfg.clip_frames} frames)")
        self.by_id = {r["id"]: r for r in recs}
        p = np.array([weights[r["corpus"]] for r in self.records], np.float64)
        self.p = p / p.sum()
        self.min_frames = need
        for r in self.records:
            for key in ("video", "landmarks"):
                if not os.path.isfile(os.path.join(folder, r["paths"][key])):
                    raise InputError(os.path.join(folder, r["paths"][key]), "missing: the dataset is incomplete "
                                     "(emocast dataset validate lists what is missing)")
        try:
            with open(os.path.join(folder, "descriptions.json")) as f:
                self.descriptions = json.load(f)["descriptions"]
        except (OSError, ValueError, KeyError):
            raise InputError(folder, "descriptions.json is missing or unreadable") from None
        self._frames: dict[str, np.ndarray] = {}

    # ------------------------------------------------------------------ the plan
    def rng(self, index: int) -> np.random.Generator:
        return np.random.default_rng([self.cfg.seed, self.phase, index])

    def reference_for(self, rec: dict, rng) -> tuple[str, int, str]:
        """``(clip id, frame, how)`` of a sample's reference image (emotion-aware sampling)."""
        ref = rec.get("reference") or {}
        how = ref.get("from", "fallback: own first frame")
        if how == "same identity":
            pool = [c for c in ref["clips"] if c in self.by_id]
            if pool:
                cid = pool[rng.integers(len(pool))]
                frames = self.by_id[cid]["emotion"].get("neutral_frames") or list(range(self.by_id[cid]["n_frames"]))
                return cid, int(frames[rng.integers(len(frames))]), how
        frames = {c: f for c, f in (ref.get("frames") or {}).items() if c in self.by_id and f}
        if frames and how != "same identity":
            cid = sorted(frames)[rng.integers(len(frames))]
            return cid, int(frames[cid][rng.integers(len(frames[cid]))]), how
        return rec["id"], 0, "fallback: own first frame"

    def plan(self, index: int) -> dict:
        """What sample ``index`` is made of, without decoding anything."""
        rng = self.rng(index)
        rec = self.records[rng.choice(len(self.records), p=self.p)]
        f = self.cfg.clip_frames
        start = int(rng.integers(0, rec["n_frames"] - f + 1))
        ref_clip, ref_frame, how = self.reference_for(rec, rng)
        texts = [t for k in rec.get("descriptions", []) for t in self.descriptions.get(k, [])]
        text = texts[rng.integers(len(texts))] if texts else ""
        c = self.cfg
        drop = (bool(rng.random() < c.drop_text), bool(rng.random() < c.drop_reference),
                bool(rng.random() < c.drop_audio))
        return {"index": index, "clip": rec["id"], "start": start, "reference_clip": ref_clip,
                "reference_frame": ref_frame, "reference_from": how, "text": text, "drop": drop}

    # ------------------------------------------------------------------ pixels
    def _clip_frames(self, cid: str) -> np.ndarray:
        """All frames of a clip at ``cfg.size``, ``uint8 (T, S, S, 3)``; a few recent clips are kept."""
        if cid not in self._frames:
            if len(self._frames) >= 4:
                self._frames.pop(next(iter(self._frames)))
            s = self.cfg.size
            path = os.path.join(self.folder, self.by_id[cid]["paths"]["video"])
            self._frames[cid] = np.stack([cv2.resize(f, (s, s), interpolation=cv2.INTER_AREA)
                                          for _, f in iter_frames(path)])
        return self._frames[cid]

    @staticmethod
    def _pixels(frames: np.ndarray) -> np.ndarray:
        return (frames.astype(np.float32) / 127.5 - 1.0).transpose(0, 3, 1, 2)

    def region_inputs(self, rec: dict) -> tuple[np.ndarray, dict]:
        """Face-locator box image and region masks of a clip at ``cfg.size``, by the neural engine's own
        :func:`~emocast.neural.masks.region_masks` over the clip's union face and lip boxes (as the dataset's
        ``masks.npz``, at the training size)."""
        lms = np.load(os.path.join(self.folder, rec["paths"]["landmarks"])) * (self.cfg.size / rec["size"])
        rm = region_masks(box_corners(lms[:, MP_FACE_OVAL]), (self.cfg.size,) * 2, self.cfg.size, self.n_levels,
                          lip_landmarks=box_corners(lms[:, MP_LIPS_OUTER]))
        return rm.face_box_image.astype(np.float32), {r: getattr(rm, r) for r in REGIONS}

    def face_embedding(self, rec: dict) -> np.ndarray:
        p = rec["paths"].get("face_embedding")
        if p and os.path.isfile(os.path.join(self.folder, p)):
            return np.load(os.path.join(self.folder, p)).astype(np.float32)
        return np.zeros(self.face_embed_dim, np.float32)

    def sample(self, index: int) -> Sample:
        """Decode sample ``index`` of the plan."""
        p = self.plan(index)
        rec = self.by_id[p["clip"]]
        frames = self._clip_frames(rec["id"])
        f, m, s = self.cfg.clip_frames, self.cfg.motion_frames, p["start"]
        target = self._pixels(frames[s:s + f])
        reference = self._pixels(self._clip_frames(p["reference_clip"])[p["reference_frame"]][None])[0]
        motion = None
        if self.cfg.stage == 2:
            motion = self._pixels(frames[s - m:s]) if s >= m else np.repeat(reference[None], m, axis=0)
        box, masks = self.region_inputs(rec)
        return Sample(index, rec["id"], p["reference_clip"], p["reference_from"], target, reference, motion,
                      p["text"], self.face_embedding(rec), box, masks, s, p["drop"])
