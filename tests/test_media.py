"""Media stage on real and derived files: every image kind, every audio container, atomic mp4."""
import os

import numpy as np
import pytest
from PIL import Image

from emocast.errors import InputError
from emocast.media import load_audio, load_image, read_video, write_video
from tests.conftest import write_wav


def test_image_kinds(astronaut_png, tmp_path):
    ref = np.asarray(Image.open(astronaut_png).convert("RGB"))
    im = Image.open(astronaut_png)
    cases = {
        "a.jpg": lambda p: im.save(p, quality=95),
        "a.webp": lambda p: im.save(p, quality=95),
        "a.bmp": lambda p: im.save(p),
        "rgba.png": lambda p: im.convert("RGBA").save(p),
        "gray.png": lambda p: im.convert("L").save(p),
        "g16.png": lambda p: Image.fromarray((np.asarray(im.convert("L")).astype(np.uint16) * 257)).save(p),
    }
    for name, save in cases.items():
        p = tmp_path / name
        save(p)
        a = load_image(p)
        assert a.dtype == np.uint8 and a.shape == ref.shape, name
        assert np.abs(a.astype(int).mean() - ref.mean()) < 20, name


def test_exif_rotation(astronaut_png, tmp_path):
    im = Image.open(astronaut_png).crop((0, 0, 512, 300))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 CW to display
    p = tmp_path / "rot.jpg"
    im.save(p, exif=exif)
    assert load_image(p).shape == (512, 300, 3)


def test_bad_images(tmp_path):
    (tmp_path / "empty.png").write_bytes(b"")
    (tmp_path / "junk.jpg").write_bytes(b"not an image at all")
    for name, msg in (("empty.png", "empty"), ("junk.jpg", "cannot read image"), ("missing.png", "not found")):
        with pytest.raises(InputError) as e:
            load_image(tmp_path / name)
        assert name in str(e.value) and msg in str(e.value) and "\n" not in str(e.value)


def test_audio_containers(tts_wav, tmp_path):
    """The same speech through WAV, MP3, M4A (AAC), FLAC, OGG and an mp4's audio track."""
    import av

    ref = load_audio(tts_wav)
    for ext, codec in (("mp3", "libmp3lame"), ("m4a", "aac"), ("flac", "flac"), ("ogg", "libopus")):
        out = tmp_path / f"s.{ext}"
        with av.open(str(tts_wav)) as src, av.open(str(out), "w") as dst:
            st = dst.add_stream(codec, rate=48000 if codec == "libopus" else 44100)
            st.layout = "stereo"
            rs = av.AudioResampler(format=st.codec_context.format.name if st.codec_context.format else "fltp",
                                   layout="stereo", rate=st.rate)
            for fr in src.decode(audio=0):
                for f2 in rs.resample(fr):
                    for pkt in st.encode(f2):
                        dst.mux(pkt)
            for pkt in st.encode(None):
                dst.mux(pkt)
        a = load_audio(out)
        assert abs(len(a) - len(ref)) < 0.1 * 16000, ext  # codec padding only
        assert np.abs(a).max() > 0.1, ext


def test_24bit_extensible_wav(fixtures_dir):
    a = load_audio(fixtures_dir / "speech" / "SadTalker_fayu.wav")
    assert a.dtype == np.float32 and 6.5 < len(a) / 16000 < 7.0


def test_44k_stereo(fixtures_dir):
    a = load_audio(fixtures_dir / "speech" / "hallo_1.wav")
    assert 7.4 < len(a) / 16000 < 7.6


def test_silent_and_empty_audio(tmp_path):
    write_wav(tmp_path / "silent.wav", np.zeros(16000, np.float32), 16000)
    (tmp_path / "empty.wav").write_bytes(b"")
    with pytest.raises(InputError, match="silent"):
        load_audio(tmp_path / "silent.wav")
    with pytest.raises(InputError, match="empty"):
        load_audio(tmp_path / "empty.wav")
    (tmp_path / "junk.mp3").write_bytes(os.urandom(2000))
    with pytest.raises(InputError, match="junk.mp3"):
        load_audio(tmp_path / "junk.mp3")


def test_video_roundtrip_and_atomic(tmp_path):
    frames = [np.full((101, 75, 3), i * 5, np.uint8) for i in range(30)]  # odd sizes are padded
    audio = np.sin(np.arange(16000 * 12 // 10) / 16000 * 2 * np.pi * 220).astype(np.float32) * 0.3
    p = write_video(tmp_path / "v.mp4", frames, audio, fps=25)
    f, fps, a = read_video(p)
    assert f.shape[0] == 30 and fps == 25 and abs(len(a) / 16000 - 1.2) < 0.04
    assert not [x for x in os.listdir(tmp_path) if x.startswith(".emocast-")]
    umask = os.umask(0)
    os.umask(umask)
    assert os.stat(p).st_mode & 0o777 == 0o666 & ~umask  # readable like any file the user makes

    def boom():
        yield frames[0]
        raise RuntimeError("render failed")

    with pytest.raises(RuntimeError):
        write_video(tmp_path / "w.mp4", boom(), audio)
    assert os.listdir(tmp_path) == ["v.mp4"]
