"""Media stage: decode portraits and audio, encode the output mp4 (PyAV, Pillow)."""
from .image import load_image
from .audio import load_audio, SAMPLE_RATE
from .video import write_video, read_video, VideoWriter

__all__ = ["load_image", "load_audio", "SAMPLE_RATE", "write_video", "read_video", "VideoWriter"]
