"""ETTH-style dataset building (paper Sec. 3.3): source videos -> 512² 25 fps clips with audio, landmarks,
the neural engine's masks, lip-sync figures, emotion labels, identities, neutral references and emotive
descriptions, listed in ``manifest.jsonl`` (:mod:`emocast.dataset.manifest`)."""
from .build import build, list_sources
from .config import DatasetConfig
from .manifest import read_manifest

__all__ = ["build", "list_sources", "DatasetConfig", "read_manifest"]
