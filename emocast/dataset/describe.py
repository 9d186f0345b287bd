"""Emotive text descriptions per emotion and intensity level (ETTH, paper Sec. 3.3: an LLM writes scene
descriptions from each clip's label; MMHead-style sentences plus the plain
"a person talking with {adverb} {label} emotion").

Offline, the sentences are built from the emotion bank (:data:`emocast.emotion.bank.BANK`); a local LLM
command or a local OpenAI-compatible endpoint can write them instead. Either way a sentence is kept only
when the package's own emotion reader (:func:`emocast.emotion.parse.parse_spec`) maps it back to its label.
"""
from __future__ import annotations

import json
import re
import shlex
import subprocess
import urllib.request

import numpy as np

from ..emotion.bank import BANK
from ..emotion.labels import MEAD_EMOTIONS
from ..emotion.parse import parse_spec
from ..errors import InputError
from .config import DatasetConfig

ADJECTIVE = {"neutral": "neutral", "happy": "happy", "sad": "sad", "angry": "angry", "fear": "fearful",
             "disgusted": "disgusted", "surprised": "surprised", "contempt": "contemptuous"}
ADVERB = {1: "slightly", 2: "clearly", 3: "very"}
"""Adverb of each intensity level in the plain description."""
SUBJECTS = ("A person", "The speaker", "A woman", "A man", "Someone on camera")
SCENES = ("{subject} talks to the camera, {adverb} {adjective}: {phrase}.",
          "{subject} is speaking, {phrase}, and looks {adverb} {adjective}.",
          "{subject} tells a story, {adverb} {adjective}: {phrase}.",
          "{subject} answers a question, looking {adverb} {adjective}: {phrase}.")
"""MMHead-style scene sentences; every one carries the intensity level's adverb."""
LLM_PROMPT = ("Write {n} short, varied one-sentence descriptions of a scene in which a person talks to the "
              "camera showing {adverb} {adjective} emotion (intensity {intensity:.2f} of 1). One per line, "
              "no numbering.")
LLM_TIMEOUT_S = 180
_NUMBERING = re.compile(r"^\s*(?:\d+[.)]|[-*\u2022])\s*")


def key(label: str, level: int) -> str:
    """Description key of a label and level, ``"happy/2"`` (neutral has level 1 only)."""
    return f"{label}/{1 if label == 'neutral' else level}"


def levels(label: str) -> tuple[int, ...]:
    return (1,) if label == "neutral" else (1, 2, 3)


def plain(label: str, level: int) -> str:
    """The paper's plain description: ``"a person talking with very angry emotion"``."""
    adverb = "" if label == "neutral" else ADVERB[level] + " "
    return f"a person talking with {adverb}{ADJECTIVE[label]} emotion"


def template_candidates(label: str, level: int) -> list[str]:
    """Scene sentences from the emotion bank's phrases for ``label`` (deterministic order)."""
    out = []
    for i, phrase in enumerate(BANK[label]):
        scene = SCENES[i % len(SCENES)]
        subject = SUBJECTS[(i + level) % len(SUBJECTS)]
        adverb = "" if label == "neutral" else ADVERB[level]
        out.append(" ".join(scene.format(subject=subject, phrase=phrase, adverb=adverb,
                                         adjective=ADJECTIVE[label]).split()))
    return out


def llm_candidates(label: str, level: int, cfg: DatasetConfig) -> list[str]:
    """Sentences a local LLM writes: ``cfg.describer`` (a command, ``{label}``, ``{intensity}`` and
    ``{prompt}`` filled in, one sentence per output line) or ``cfg.describer_url`` (OpenAI-compatible
    ``/chat/completions``). Raises :class:`InputError` when the LLM cannot be reached or fails."""
    intensity = {1: 0.33, 2: 0.67, 3: 1.0}[level] if label != "neutral" else 0.0
    prompt = LLM_PROMPT.format(n=8, adverb="" if label == "neutral" else ADVERB[level],
                               adjective=ADJECTIVE[label], intensity=intensity)
    if cfg.describer:
        argv = [a.format(label=label, intensity=f"{intensity:.2f}", prompt=prompt) for a in shlex.split(cfg.describer)]
        try:
            r = subprocess.run(argv, capture_output=True, text=True, timeout=LLM_TIMEOUT_S)
        except (OSError, subprocess.TimeoutExpired) as e:
            raise InputError("--describer", f"cannot run the describer ({type(e).__name__})") from None
        if r.returncode != 0:
            raise InputError("--describer", f"the describer exited with status {r.returncode}")
        text = r.stdout
    else:
        body = json.dumps({"model": "local", "messages": [{"role": "user", "content": prompt}]}).encode()
        req = urllib.request.Request(cfg.describer_url.rstrip("/") + "/chat/completions", body,
                                     {"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=LLM_TIMEOUT_S) as resp:
                text = json.load(resp)["choices"][0]["message"]["content"]
        except (OSError, ValueError, KeyError, IndexError) as e:
            raise InputError("--describer-url", f"no usable answer from the endpoint ({type(e).__name__})") from None
    lines = (_NUMBERING.sub("", s) for s in text.splitlines())
    return [" ".join(s.split()) for s in lines if s.strip()]


def reads_as(sentence: str) -> str:
    """The MEAD label the package's emotion reader gives a sentence."""
    return MEAD_EMOTIONS[int(np.argmax(parse_spec(sentence).weights))]


def describe_all(cfg: DatasetConfig) -> dict:
    """Descriptions for every MEAD label and level.

    Returns:
        ``{"source", "descriptions": {key: [sentences]}, "dropped": {key: [sentences the reader gave
        another label]}}``; each list starts with the plain description when it round-trips.
    """
    llm = bool(cfg.describer or cfg.describer_url)
    out: dict = {"source": ("command: " + cfg.describer) if cfg.describer else
                 ("endpoint: " + cfg.describer_url) if cfg.describer_url else "templates from the emotion bank",
                 "descriptions": {}, "dropped": {}}
    for label in MEAD_EMOTIONS:
        for level in levels(label):
            cands = [plain(label, level)] + (llm_candidates(label, level, cfg) if llm else template_candidates(label, level))
            kept, dropped = [], []
            for s in dict.fromkeys(cands):
                if len(kept) >= cfg.descriptions_per_level:
                    break
                (kept if reads_as(s) == label else dropped).append(s)
            out["descriptions"][key(label, level)] = kept
            if dropped:
                out["dropped"][key(label, level)] = dropped
    return out
