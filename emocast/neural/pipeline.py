"""``EmoCASTPipeline``: portrait + speech + emotion text -> talking-head frames (paper Sec. 3.2, 3.4).

Diffusers conventions (components registered with ``register_modules``, a scheduler from
``diffusers``, ``__call__`` returning an output dataclass, ``progress_bar``), with the release's
settings by default: DDIM, v-prediction, zero-terminal-SNR betas (linear 0.00085-0.012, trailing
spacing), 40 steps, CFG 3.5, 16-frame clips continued with 2 motion frames, 25 fps, 512 px.

Additions over the release:

* the emotion prompt can change from clip to clip (``prompts`` list or an
  :class:`~emocast.emotion.track.EmotionTrack`, read at each clip's centre time);
* separate guidance scales: ``guidance_audio`` for identity/audio/reference conditions and
  ``guidance_text`` for the emotion text. With equal scales the result is the release's
  two-branch CFG exactly; otherwise three branches are run::

      v = v_uncond + s_audio * (v_no_emotion - v_uncond) + s_text * (v_cond - v_no_emotion)

  where ``no_emotion`` = full conditioning except that both the context text and the emotion
  tokens of the audio attention are the empty prompt's;
* ``sampler="dpm"`` (DPM-Solver++ multistep, 2nd order, same betas) for fewer steps;
* any device / dtype (fp16, bf16), SDPA attention, and a simple model CPU offload that keeps only
  the running component on the accelerator.

Differences from the release kept on purpose: no vocal separation before wav2vec2; the
reference bank keeps the model dtype (the release casts it to fp16, which only matters in fp32
runs); faces are located with MediaPipe landmarks given by the caller, not the release's own
landmarker call; the reference pass uses the release's interleaved context order for the
unconditional and conditional rows, and the "no emotion" branch reads the conditional row; the
DDIM (or DPM) update itself runs in float32 and its result is cast back to the model dtype (the
release steps in the model dtype, fp16): the noise prediction is the same, and 40 fp16 updates of
the latents would round each step's small change in half precision.

As the release: without an unconditional branch (guidance <= 1) the reference pass runs the portrait
and motion slots once, all with the conditional context (:meth:`EmoCASTPipeline.reference_inputs`);
the audio is normalised before it is padded with silence (:func:`~emocast.neural.audio.pad_audio`);
face and lip boxes are expanded in the portrait's pixels and shifted, not cut, at the border
(:func:`~emocast.neural.masks.expand_box`).

Unconditional branch (release, NOTES Sec. 5): empty-prompt text + ``face_proj(zeros)`` face tokens,
audio tokens zeroed after the projection, FaceLocator features zeroed, plain self-attention
instead of reference attention; emotion tokens and masks unchanged; motion frames still used.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Iterator

import numpy as np
import torch
import torch.nn.functional as F
from diffusers import DDIMScheduler, DiffusionPipeline, DPMSolverMultistepScheduler
from diffusers.utils import BaseOutput

from .attention import REGIONS, AudioConditioning
from .audio import audio_windows, normalise, pad_audio, wav2vec_features
from .masks import default_landmarks, region_masks
from .net import write_reference

VAE_SCALE = 0.18215

#: DDIM settings of the release (resolved config, NOTES.md Sec. 5).
SCHEDULER_CONFIG = dict(num_train_timesteps=1000, beta_start=0.00085, beta_end=0.012, beta_schedule="linear",
                        clip_sample=False, set_alpha_to_one=True, steps_offset=1, prediction_type="v_prediction",
                        timestep_spacing="trailing", rescale_betas_zero_snr=True)


def make_scheduler(sampler: str = "ddim"):
    """``"ddim"`` (release) or ``"dpm"`` (DPM-Solver++ 2M, zero-SNR safe: final sigma 0)."""
    if sampler == "ddim":
        return DDIMScheduler(**SCHEDULER_CONFIG)
    if sampler in ("dpm", "dpm++", "dpmsolver"):
        cfg = {k: v for k, v in SCHEDULER_CONFIG.items() if k not in ("clip_sample", "set_alpha_to_one")}
        return DPMSolverMultistepScheduler(**cfg, algorithm_type="dpmsolver++", solver_order=2,
                                           final_sigmas_type="zero")
    raise ValueError(f"unknown sampler {sampler!r} (use 'ddim' or 'dpm')")


@dataclass
class EmoCASTPipelineOutput(BaseOutput):
    """frames: ``uint8 (N, size, size, 3)`` RGB video frames at ``fps``."""

    frames: np.ndarray


class EmoCASTPipeline(DiffusionPipeline):
    """Components: ``reference_unet``, ``denoising_unet``, ``face_locator``, ``face_proj``,
    ``audio_proj`` (the parts of :class:`~emocast.neural.net.EmoCASTNet`), ``vae``
    (``AutoencoderKL``), ``text_encoder`` (``CLIPTextModel``) + ``tokenizer``, ``audio_encoder``
    (``Wav2Vec2Model``), ``scheduler``. Build it with :meth:`from_net`.
    """

    model_cpu_offload_seq = "text_encoder->audio_encoder->audio_proj->face_proj->face_locator->vae->reference_unet->denoising_unet"

    def __init__(self, reference_unet, denoising_unet, face_locator, face_proj, audio_proj, vae, text_encoder,
                 tokenizer, audio_encoder, scheduler):
        super().__init__()
        self.register_modules(reference_unet=reference_unet, denoising_unet=denoising_unet, face_locator=face_locator,
                              face_proj=face_proj, audio_proj=audio_proj, vae=vae, text_encoder=text_encoder,
                              tokenizer=tokenizer, audio_encoder=audio_encoder, scheduler=scheduler)
        self._offload = None
        self._exec_device = torch.device("cpu")

    @classmethod
    def from_net(cls, net, vae, text_encoder, tokenizer, audio_encoder, scheduler=None) -> "EmoCASTPipeline":
        """Pipeline around an :class:`~emocast.neural.net.EmoCASTNet` (its parts are shared, not copied)."""
        pipe = cls(net.reference_unet, net.denoising_unet, net.face_locator, net.face_proj, net.audio_proj, vae,
                   text_encoder, tokenizer, audio_encoder, scheduler or make_scheduler("ddim"))
        pipe.net = net
        return pipe

    # ------------------------------------------------------------------ devices
    _MODELS = ("reference_unet", "denoising_unet", "face_locator", "face_proj", "audio_proj", "vae", "text_encoder",
               "audio_encoder")

    def to(self, device=None, dtype=None):  # noqa: D401  (diffusers-style)
        """Move every model (``dtype`` casts all but the audio encoder's feature CNN stays float)."""
        for name in self._MODELS:
            m = getattr(self, name)
            m.to(device=device, dtype=dtype) if dtype is not None else m.to(device)
        if device is not None:
            self._exec_device = torch.device(device)
        return self

    @property
    def device(self) -> torch.device:
        return self._exec_device

    @property
    def dtype(self) -> torch.dtype:
        return self.denoising_unet.conv_in.weight.dtype

    def enable_model_cpu_offload(self, gpu_id: int | None = None, device: torch.device | str = "cuda"):
        """Keep models on the CPU and move each to ``device`` only while it runs (saves ~60% of
        GPU memory at the cost of transfers). Works with any torch device; ``"cpu"`` is a no-op
        path useful for testing."""
        dev = torch.device(device) if gpu_id is None else torch.device(f"{torch.device(device).type}:{gpu_id}")
        for name in self._MODELS:
            getattr(self, name).to("cpu")
        self._offload = dev
        self._exec_device = dev

    @contextlib.contextmanager
    def _using(self, *names):
        if self._offload is None:
            yield
            return
        mods = [getattr(self, n) for n in names]
        for m in mods:
            m.to(self._offload)
        try:
            yield
        finally:
            for m in mods:
                m.to("cpu")
            if self._offload.type == "cuda":
                torch.cuda.empty_cache()

    # ------------------------------------------------------------------ encoders
    @torch.no_grad()
    def encode_text(self, prompts: list[str]) -> torch.Tensor:
        """CLIP last hidden state ``(n, 77, D)`` for each prompt (padded to the model length), with the
        tokenizer's attention mask, as the release calls it (``text_encoder(input_ids, attention_mask)``)."""
        tok = self.tokenizer(prompts, padding="max_length", truncation=True,
                             max_length=self.tokenizer.model_max_length, return_tensors="pt")
        with self._using("text_encoder"):
            out = self.text_encoder(tok.input_ids.to(self.device), attention_mask=tok.attention_mask.to(self.device),
                                    return_dict=True).last_hidden_state
        return out.to(self.device, self.dtype)

    @torch.no_grad()
    def encode_audio(self, audio: np.ndarray, n_frames: int) -> torch.Tensor:
        """Windowed wav2vec2 features ``(n_frames, window, layers, dim)`` (float32 on the device) of
        ``audio`` normalised and then padded (:func:`~emocast.neural.audio.normalise`, then
        :func:`~emocast.neural.audio.pad_audio`), as the release prepares it."""
        with self._using("audio_encoder"):
            feats = wav2vec_features(self.audio_encoder, audio, n_frames, device=self.device, normalised=True)
        return audio_windows(feats.float(), self.audio_proj.config.window)

    @torch.no_grad()
    def encode_images(self, pixels: torch.Tensor) -> torch.Tensor:
        """``(N, 3, S, S)`` in [-1, 1] -> latents ``(N, 4, S/8, S/8)`` (posterior mean x 0.18215)."""
        with self._using("vae"):
            lat = self.vae.encode(pixels.to(self.device, self.vae.dtype)).latent_dist.mean
        return (lat * VAE_SCALE).to(self.dtype)

    @torch.no_grad()
    def decode_latents(self, latents: torch.Tensor) -> torch.Tensor:
        """``(1, 4, F, h, w)`` -> ``(F, 3, S, S)`` float in [0, 1], one frame at a time."""
        frames = []
        with self._using("vae"):
            for i in range(latents.shape[2]):
                x = self.vae.decode((latents[:, :, i] / VAE_SCALE).to(self.vae.dtype)).sample
                frames.append((x.float() / 2 + 0.5).clamp(0, 1))
        return torch.cat(frames)

    # ------------------------------------------------------------------ CFG
    @staticmethod
    def reference_inputs(slot_latents: torch.Tensor, ctx: dict, branches: list[str]):
        """Latents, contexts and row pairing of the ReferenceNet pass, as the release builds them.

        Args:
            slot_latents: ``(S, 4, h, w)`` latents of the portrait and the motion frames.
            ctx: ``{"u", "n", "c"}`` contexts ``(1, T+K, D)``.
            branches: :meth:`cfg_branches`.

        Returns:
            ``(latents (R*S, ...), context (R*S, T+K, D), rows)``. With an unconditional branch (CFG)
            the release runs the slots twice, ``[r, m1, m2, r, m1, m2]``, against its context repeated
            per slot, ``[u, c, u, c, u, c]`` (the two orders do not line up: NOTES Sec. 4.1), and the
            denoising rows read reference row 0 (``u``) or 1; without CFG it runs the slots once, all
            with the conditional context.
        """
        slots = slot_latents.shape[0]
        if "u" not in branches:
            return slot_latents, ctx["c"].repeat(slots, 1, 1), [0] * len(branches)
        return (slot_latents.repeat(2, 1, 1, 1), torch.cat([ctx["u"], ctx["c"]]).repeat(slots, 1, 1),
                [0 if b == "u" else 1 for b in branches])

    @staticmethod
    def cfg_branches(guidance_text: float, guidance_audio: float) -> list[str]:
        """Branches to evaluate: ``"u"`` unconditional, ``"n"`` no emotion, ``"c"`` conditional."""
        if guidance_text == guidance_audio:
            return ["u", "c"] if guidance_text > 1.0 else ["c"]
        if guidance_audio == 1.0:
            return ["n", "c"]
        return ["u", "n", "c"]

    @staticmethod
    def combine(v: dict, guidance_text: float, guidance_audio: float) -> torch.Tensor:
        """Guided prediction from branch predictions ``v`` (see module doc)."""
        if set(v) == {"c"}:
            return v["c"]
        if "n" not in v:
            return v["u"] + guidance_text * (v["c"] - v["u"])
        base = v["n"] if "u" not in v else v["u"] + guidance_audio * (v["n"] - v["u"])
        return base + guidance_text * (v["c"] - v["n"])

    # ------------------------------------------------------------------ main loop
    def _prepare_image(self, image: np.ndarray, size: int) -> torch.Tensor:
        x = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1)[None].float() / 255.0
        x = F.interpolate(x, size=(size, size), mode="bicubic", align_corners=False, antialias=True).clamp(0, 1)
        return x * 2 - 1

    @torch.no_grad()
    def iter_frames(self, image: np.ndarray, audio: np.ndarray, prompts, *, landmarks: np.ndarray | None = None,
                    lip_landmarks: np.ndarray | None = None, face_embedding: np.ndarray | None = None,
                    num_inference_steps: int = 40, guidance_text: float = 3.5, guidance_audio: float = 3.5,
                    region_weights: dict | None = None, clip_frames: int = 16, motion_frames: int = 2,
                    fps: float = 25.0, size: int = 512, generator: torch.Generator | None = None, seed: int = 42,
                    progress: bool = True) -> Iterator[np.ndarray]:
        """Yield ``uint8 (size, size, 3)`` frames, one clip at a time.

        Args:
            image: ``uint8 (H, W, 3)`` RGB portrait (resized to ``size`` square without cropping).
            audio: ``float32`` 16 kHz mono speech; the video has ``ceil(seconds * fps)`` frames.
            prompts: one emotion text, a list with one text per clip, an
                :class:`~emocast.emotion.track.EmotionTrack`, or a callable ``t_seconds -> text``.
            landmarks: ``float32 (N, 2)`` face landmarks in ``image`` pixels (MediaPipe 478 mesh or
                any face outline); None = a centred box guess.
            face_embedding: ``float32 (512,)`` raw ArcFace embedding; None = zeros (release: no face).
            num_inference_steps: denoising steps per clip (40).
            guidance_text / guidance_audio: CFG scales (3.5 / 3.5 = release).
            region_weights: weights of the full / face / lip audio attentions (1, 1, 1).
            clip_frames / motion_frames: frames generated per clip and previous frames carried over.
            generator / seed: noise source shared by all clips (default ``torch.manual_seed(42)``
                on the CPU, so results do not depend on the device).
        """
        dev, dt = self.device, self.dtype
        if generator is None:
            generator = torch.Generator("cpu").manual_seed(seed)
        # Normalised, then padded with silence, as the release's feature extractor does.
        padded, n_frames, n_pad = pad_audio(normalise(np.asarray(audio, np.float32)), fps, clip_frames)
        n_clips = n_pad // clip_frames
        prompt_of = _prompt_source(prompts, n_clips, clip_frames, fps)
        n_levels = len(self.denoising_unet.cfg.block_out_channels)

        # ---- per-portrait conditions
        pixels = self._prepare_image(image, size).to(dev)
        lm = default_landmarks(image.shape[:2]) if landmarks is None else landmarks
        rm = region_masks(lm, image.shape[:2], size, n_levels, lip_landmarks)
        masks = {r: [torch.from_numpy(m)[None].to(dev, dt) for m in getattr(rm, r)] for r in REGIONS}
        weights = {r: 1.0 for r in REGIONS} | dict(region_weights or {})
        box = torch.from_numpy(rm.face_box_image)[None, None].expand(1, 3, -1, -1).to(dev, dt)
        with self._using("face_locator"):
            locator = self.face_locator(box)
        emb_dim = self.face_proj.config.embed_dim
        femb = torch.zeros(1, emb_dim) if face_embedding is None else torch.as_tensor(face_embedding).reshape(1, -1)
        with self._using("face_proj"):
            face_c = self.face_proj(femb.to(dev, dt))
            face_u = self.face_proj(torch.zeros(1, emb_dim, device=dev, dtype=dt))
        windows = self.encode_audio(padded, n_pad)
        empty = self.encode_text([""])
        text_cache: dict[str, torch.Tensor] = {}
        branches = self.cfg_branches(guidance_text, guidance_audio)
        scheduler = self.scheduler
        lat_side = size // 8
        motion_px = pixels.repeat(motion_frames, 1, 1, 1)
        emitted = 0
        bar = self.progress_bar(total=n_clips * num_inference_steps) if progress else None

        for k in range(n_clips):
            prompt = prompt_of(k)
            if prompt not in text_cache:
                text_cache[prompt] = self.encode_text([prompt])
            emo = text_cache[prompt]
            ctx = {"u": torch.cat([empty, face_u], 1), "n": torch.cat([empty, face_c], 1),
                   "c": torch.cat([emo, face_c], 1)}
            # ---- reference pass (release ordering of contexts, NOTES Sec. 4.1)
            slots = 1 + motion_frames
            ref_lat, ref_ctx, rows = self.reference_inputs(self.encode_images(torch.cat([pixels, motion_px])),
                                                           ctx, branches)
            with self._using("reference_unet"):
                write_reference(self.reference_unet, self.denoising_unet.bank, ref_lat, ref_ctx, slots, rows)
            # ---- conditions per branch
            a = windows[k * clip_frames:(k + 1) * clip_frames][None]
            with self._using("audio_proj"):
                audio_tok = self.audio_proj(a.to(dev, self.audio_proj.proj1.weight.dtype)).to(dt)
            b_ctx = torch.cat([ctx[b] for b in branches])
            b_audio = torch.cat([audio_tok * 0 if b == "u" else audio_tok for b in branches])
            b_emo = torch.cat([empty if b == "n" else emo for b in branches])
            b_loc = torch.cat([locator * 0 if b == "u" else locator for b in branches])
            use_ref = torch.tensor([b != "u" for b in branches], device=dev)
            cond = AudioConditioning(b_audio, b_emo, masks, weights)
            # ---- sampling
            scheduler.set_timesteps(num_inference_steps, device=dev)
            noise = torch.randn((1, self.denoising_unet.cfg.latent_channels, clip_frames, lat_side, lat_side),
                                generator=generator, dtype=torch.float32)
            latents = (noise * scheduler.init_noise_sigma).to(dev, dt)
            with self._using("denoising_unet"):
                self.denoising_unet.bank.use_reference = use_ref
                for t in scheduler.timesteps:
                    x = scheduler.scale_model_input(latents, t).repeat(len(branches), 1, 1, 1, 1)
                    v = self.denoising_unet(x, t, b_ctx, cond, b_loc)
                    guided = self.combine(dict(zip(branches, v.chunk(len(branches)))), guidance_text, guidance_audio)
                    latents = scheduler.step(guided.float(), t, latents.float()).prev_sample.to(dt)
                    if bar is not None:
                        bar.update(1)
            self.denoising_unet.bank.clear()
            frames = self.decode_latents(latents)                     # (F, 3, S, S) in [0, 1]
            motion_px = frames[-motion_frames:].to(dev) * 2 - 1
            out = (frames.permute(0, 2, 3, 1).cpu().numpy() * 255.0 + 0.5).astype(np.uint8)
            for fr in out:
                if emitted >= n_frames:
                    break
                emitted += 1
                yield fr
        if bar is not None:
            bar.close()

    def __call__(self, image, audio, prompts, **kwargs) -> EmoCASTPipelineOutput:
        """All frames at once: see :meth:`iter_frames` for the arguments."""
        return EmoCASTPipelineOutput(frames=np.stack(list(self.iter_frames(image, audio, prompts, **kwargs))))


def _prompt_source(prompts, n_clips: int, clip_frames: int, fps: float):
    """clip index -> emotion text. EmotionTrack / callables are read at the clip's centre time."""
    if isinstance(prompts, str):
        return lambda k: prompts
    if hasattr(prompts, "prompt_at"):
        return lambda k: prompts.prompt_at((k + 0.5) * clip_frames / fps)
    if callable(prompts):
        return lambda k: prompts((k + 0.5) * clip_frames / fps)
    seq = list(prompts)
    if not seq:
        raise ValueError("no emotion prompt given")
    return lambda k: seq[min(k, len(seq) - 1)]
