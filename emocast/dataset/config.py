"""Every parameter of ``emocast dataset build``, defined once: :class:`DatasetConfig`.

Each field carries its default, unit and help; the CLI flags (:func:`add_arguments`) and the
Python API are built from it, and :meth:`DatasetConfig.step_inputs` gives each resumable step the
fields it depends on, so changing a threshold redoes exactly the steps that read it.
"""
from __future__ import annotations

import argparse
import dataclasses
import os
from dataclasses import dataclass, field, fields

from ..errors import InputError


def param(default, help: str, *, unit: str = "", steps: tuple[str, ...] = (), choices: tuple | None = None):
    """A field of :class:`DatasetConfig` with its help, unit and the steps that read it."""
    return field(default=default, metadata=dict(help=help, unit=unit, steps=steps, choices=choices))


@dataclass(frozen=True)
class DatasetConfig:
    """How source videos become training clips (ETTH recipe, paper Sec. 3.3; crops as Hallo's
    preprocessing: one fixed square per segment, 512 px, 25 fps, 16 kHz)."""

    fps: int = param(25, "frame rate of the clips (the network's)", unit="frames/s", steps=("normalise",))
    sample_rate: int = param(16000, "audio sample rate of the clips (wav2vec2's)", unit="Hz", steps=("normalise",))
    max_side: int = param(1920, "sources larger than this are shrunk before anything else", unit="px",
                          steps=("normalise",))
    shot_threshold: float = param(27.0, "PySceneDetect ContentDetector threshold (its default): a frame whose "
                                  "HSV content changes more starts a new shot", steps=("shots",))
    min_shot_s: float = param(0.6, "shortest shot: a cut closer than this to the previous one is ignored",
                              unit="s", steps=("shots",))
    second_face: float = param(0.25, "a second face at least this fraction of the main face's area makes the "
                               "frame unusable (two speakers, or a face on a screen)", steps=("segments",))
    min_segment_s: float = param(3.0, "shortest training segment", unit="s", steps=("segments",))
    max_segment_s: float = param(15.0, "longest training segment (longer speech is split evenly)", unit="s",
                                 steps=("segments",))
    max_pause_s: float = param(1.0, "silences up to this long stay inside a segment", unit="s", steps=("segments",))
    size: int = param(512, "side of the square clips", unit="px", steps=("segments", "crop", "masks"))
    face_fraction: float = param(0.6, "face height (brow to chin, landmarks) as a fraction of the crop side; "
                                 "Hallo's crops put the face at 50-70%", steps=("segments",))
    min_face_px: int = param(160, "smallest accepted face height in source pixels (smaller faces are upscaled "
                             "too far to teach anything at 512 px)", unit="px", steps=("segments",))
    max_blur: float = param(2.5, "largest accepted edge blur of the face at clip size "
                            "(render.sharpness.edge_blur_sigma)", unit="px", steps=("crop",))
    max_yaw: float = param(35.0, "largest accepted median head turn (yaw from the landmarks)", unit="degrees",
                           steps=("segments",))
    sync: str = param("auto", "lip-sync filter: 'auto' (SyncNet when --syncnet is given, else the package's own "
                      "aperture/audio offset judge) or 'off'", choices=("auto", "off"), steps=("sync",))
    syncnet: str | None = param(None, "SyncNet weights (syncnet_v2.model) for LSE-C/LSE-D and the offset",
                                steps=("sync",))
    sync_tolerance: float = param(1.0, "offsets up to this size are kept as they are", unit="frames",
                                  steps=("sync",))
    judge_lead_frames: float = param(3.0, "what the package's own sync judge reads on in-sync real speech and is "
                                     "subtracted from its offsets: the mouth takes its shape before the sound "
                                     "is heard (+2.9 frames on the HDTF KatieHill clip; audio-visual speech "
                                     "studies put the visual lead at 40-120 ms); not used with SyncNet",
                                     unit="frames", steps=("sync",))
    max_repair: float = param(10.0, "offsets up to this size are repaired by shifting the audio; larger ones are "
                              "rejected (0: reject every offset above the tolerance)", unit="frames", steps=("sync",))
    min_sync_confidence: float = param(0.2, "smallest accepted sync confidence (own judge: peak minus median "
                                       "of the lag curve, 0.51-0.54 on the real HDTF fixture clip; SyncNet: "
                                       "LSE-C, where 1.5 is a usual floor)",
                                       steps=("sync",))
    labeller: str = param("fer", "emotion labeller for clips without MEAD names: 'fer' (the bundled FER2013 "
                          "judge) or 'onnx:MODEL.onnx' (with --class-map)", steps=("emotion",))
    class_map: str | None = param(None, "comma-separated MEAD names of the ONNX labeller's output classes, in "
                                  "order", steps=("emotion",))
    label_stride: int = param(2, "label every n-th frame", unit="frames", steps=("emotion",))
    identity_threshold: float = param(0.55, "clips whose dlib face descriptors are closer than this are one "
                                      "identity (dlib's same-person line is 0.6)", steps=("identity",))
    descriptions_per_level: int = param(6, "emotive descriptions kept per emotion and intensity level",
                                        steps=("describe",))
    describer: str | None = param(None, "a local LLM command that prints descriptions, one a line; {label} and "
                                  "{intensity} are filled in (default: offline templates from the emotion bank)",
                                  steps=("describe",))
    describer_url: str | None = param(None, "a local OpenAI-compatible endpoint (http://host:port/v1) to write "
                                      "descriptions", steps=("describe",))
    wav2vec: str | None = param(None, "a wav2vec2 model folder (the release's wav2vec2-base-960h): store every "
                                "clip's audio features as the network reads them", steps=("features",))
    arcface: str | None = param(None, "an ArcFace ONNX model: store every clip's face embedding",
                                steps=("features",))
    val_fraction: float = param(0.05, "share of identities held out as the validation split", steps=("split",))

    def replace(self, **changes) -> "DatasetConfig":
        return dataclasses.replace(self, **changes)

    def validate(self) -> "DatasetConfig":
        """Check every value; raises :class:`InputError` naming the flag."""
        def bad(name, problem):
            raise InputError("--" + name.replace("_", "-"), problem)

        for name in ("fps", "sample_rate", "max_side", "size", "min_face_px", "label_stride",
                     "descriptions_per_level"):
            if getattr(self, name) < 1:
                bad(name, "must be at least 1")
        if not 0 < self.min_segment_s <= self.max_segment_s:
            bad("min_segment_s", "must be positive and at most --max-segment-s")
        if not 0.2 <= self.face_fraction <= 0.9:
            bad("face_fraction", "must be within 0.2-0.9")
        if not 0 <= self.val_fraction < 1:
            bad("val_fraction", "must be within [0, 1)")
        if self.sync not in ("auto", "off"):
            bad("sync", "must be 'auto' or 'off'")
        if self.max_repair < 0 or self.sync_tolerance < 0:
            bad("max_repair", "must not be negative")
        if not (self.labeller == "fer" or self.labeller.startswith("onnx:")):
            bad("labeller", "must be 'fer' or 'onnx:MODEL.onnx'")
        if self.labeller.startswith("onnx:") and not self.class_map:
            bad("class_map", "an ONNX labeller needs --class-map (its output classes as MEAD names)")
        for name in ("syncnet", "wav2vec", "arcface"):
            path = getattr(self, name)
            if path and not os.path.exists(path):
                raise InputError(path, f"--{name}: no such file or folder")
        if self.labeller.startswith("onnx:") and not os.path.isfile(self.labeller[5:]):
            raise InputError(self.labeller[5:], "--labeller: no such ONNX model")
        return self

    def step_inputs(self, step: str) -> dict:
        """The fields a step reads (its part of the step's cache key)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if step in f.metadata["steps"]}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """One ``--flag`` per :class:`DatasetConfig` field, with its default and unit in the help."""
    for f in fields(DatasetConfig):
        m = f.metadata
        unit = f" [{m['unit']}]" if m["unit"] else ""
        kind = type(f.default) if f.default is not None else str
        parser.add_argument("--" + f.name.replace("_", "-"), dest=f.name, type=kind, default=f.default,
                            choices=m["choices"], help=f"{m['help']}{unit} (default: {f.default})".replace("%", "%%"))


def from_args(args: argparse.Namespace) -> DatasetConfig:
    return DatasetConfig(**{f.name: getattr(args, f.name) for f in fields(DatasetConfig)}).validate()
