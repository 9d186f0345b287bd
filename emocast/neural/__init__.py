"""EmoCAST neural engine: the paper's diffusion network (arXiv 2508.20615, Sec. 3.2) as the
package's second renderer. Needs the ``neural`` extra (diffusers, transformers, accelerate,
safetensors), the released weights and, in practice, a GPU.

Entry points
------------
``generate_frames(image, audio, track, weights_dir, *, steps=40, cfg_text=3.5, cfg_audio=3.5,
dtype="fp16", device=None, size=512, sampler="ddim", cpu_offload=False, progress=True)``
    -> iterator of ``uint8 (512, 512, 3)`` RGB frames at 25 fps. ``image`` is ``uint8 (H, W, 3)``
    RGB, ``audio`` float32 16 kHz mono, ``track`` an :class:`~emocast.emotion.track.EmotionTrack`
    (the emotion text is re-read for every 16-frame clip). Optional ``landmarks`` (MediaPipe mesh,
    pixels) and ``face_embedding``; see :func:`emocast.neural.api.generate_frames`. Write the
    frames with ``emocast.media.write_video(path, frames, audio, fps=25)``.
``check_weights(weights_dir)``
    -> dict part -> path, or raises :class:`~emocast.errors.InputError`
    ``"<weights_dir>: missing: emocast/net.pth, sd-vae-ft-mse/ ..."`` (one line).
``tiny_config()`` / :func:`emocast.neural.tiny.tiny_pipeline`
    a few-channel network with the same structure, random weights and tiny random CLIP / wav2vec2
    / VAE built in code, for tests on a CPU.

Modules
-------
``config``      :class:`NetConfig`, :func:`full_config`, :func:`tiny_config`
``attention``   reference bank processors, decoupled text/face cross-attention, emotive audio attention
``temporal``    AnimateDiff temporal module
``unet3d``      denoising UNet on video latents
``adapters``    FaceLocator, face-embedding projection, audio projection
``net``         :class:`EmoCASTNet` (what ``net.pth`` holds), ReferenceNet, freezing, checkpointing
``convert``     ``net.pth`` key converter (both directions) and strict loader
``audio``       wav2vec2 features at 25 fps and 5-frame windows
``masks``       FaceLocator box and full/face/lip masks from landmarks
``face_embed``  ArcFace ONNX embedding from mesh landmarks
``pipeline``    :class:`EmoCASTPipeline` (diffusers conventions)
``weights``     weights-folder layout, :func:`check_weights`, :func:`load_pipeline`
``tiny``        tiny random components for tests

Importing this package does not import torch or diffusers; the names below load lazily.
"""
from __future__ import annotations

from .config import NetConfig, full_config, tiny_config
from .weights import check_weights

__all__ = ["generate_frames", "check_weights", "tiny_config", "full_config", "NetConfig", "EmoCASTPipeline",
           "EmoCASTNet", "build_net"]


def __getattr__(name):
    if name == "generate_frames":
        from .api import generate_frames
        return generate_frames
    if name == "EmoCASTPipeline":
        from .pipeline import EmoCASTPipeline
        return EmoCASTPipeline
    if name in ("EmoCASTNet", "build_net"):
        from . import net
        return getattr(net, name)
    raise AttributeError(name)
