"""Face-region masks and audio windowing against NOTES.md Sec. 7-8."""
import numpy as np
import pytest
import torch

from emocast.neural.audio import audio_windows, n_video_frames, normalise, pad_audio, wav2vec_features
from emocast.neural.face_embed import ARCFACE_TEMPLATE, align_face, five_points
from emocast.neural.masks import MP_FACE_OVAL, MP_LIPS_OUTER, default_landmarks, region_masks


def _mesh(face=(100, 80, 300, 330), lips=(160, 250, 240, 290)):
    """A fake 478-point mesh: oval points on the face box, lip points on the lip box."""
    lm = np.full((478, 2), 200.0, np.float32)
    x0, y0, x1, y1 = face
    for i, idx in enumerate(MP_FACE_OVAL):
        a = 2 * np.pi * i / len(MP_FACE_OVAL)
        lm[idx] = [(x0 + x1) / 2 + (x1 - x0) / 2 * np.sin(a), (y0 + y1) / 2 - (y1 - y0) / 2 * np.cos(a)]
    x0, y0, x1, y1 = lips
    for i, idx in enumerate(MP_LIPS_OUTER):
        a = 2 * np.pi * i / len(MP_LIPS_OUTER)
        lm[idx] = [(x0 + x1) / 2 + (x1 - x0) / 2 * np.cos(a), (y0 + y1) / 2 + (y1 - y0) / 2 * np.sin(a)]
    return lm


def test_region_masks_shapes_ranges_and_boxes():
    m = region_masks(_mesh(), (400, 400), size=512)
    assert m.face_box_image.shape == (512, 512)
    for name in ("full", "face", "lip"):
        levels = getattr(m, name)
        assert [x.shape for x in levels] == [(4096,), (1024,), (256,), (64,)]
        assert all(x.dtype == np.float32 and x.min() >= 0 and x.max() <= 1 for x in levels)
    # boxes: face 1.2x and lip 2.0x about their centres, in 512-px coordinates
    s = 512 / 400
    cx, w = 200 * s, 200 * s * 1.2
    assert m.face_box[0] == pytest.approx(cx - w / 2, abs=0.5) and m.face_box[2] == pytest.approx(cx + w / 2, abs=0.5)
    lw = 80 * s * 2.0
    assert m.lip_box[2] - m.lip_box[0] == pytest.approx(lw, abs=0.5)
    full, face, lip = (getattr(m, n)[0].reshape(64, 64) for n in ("full", "face", "lip"))
    ly, lx = int((270 * s) / 8), int(200 * s / 8)
    assert lip[ly, lx] > 0.9 and face[ly, lx] < 0.2          # lips belong to the lip mask
    assert face[int(150 * s / 8), lx] > 0.5                   # upper face (eyes) to the face mask
    assert full[0, 0] > 0.9 and full[ly, lx] < 0.2            # background / pose mask outside the face
    assert (np.abs(full + face + lip - 1.0) < 0.02)[face > 0.01].mean() > 0.95


def test_region_masks_from_any_outline_and_default():
    m = region_masks(default_landmarks((300, 200)), (300, 200), size=128, levels=4)
    assert [x.size for x in m.full] == [256, 64, 16, 4]
    with pytest.raises(ValueError):
        region_masks(np.array([[1, 2]], np.float32), (10, 10))


def test_audio_padding_and_frame_count():
    a = np.zeros(16000 * 3 + 1, np.float32)                   # 3 s + one sample
    assert n_video_frames(len(a)) == 76
    padded, n, n_pad = pad_audio(a, 25, 16)
    assert (n, n_pad, len(padded)) == (76, 80, len(a) + 4 * 640)  # the release's padding: 4 frames of zeros
    assert len(pad_audio(np.zeros(16 * 640, np.float32), 25, 16)[0]) == 16 * 640  # whole clips: none


def test_audio_is_normalised_before_padding_as_in_the_release(tiny):
    """The padding is silence after normalisation (the release normalises in its feature extractor,
    then pads): normalising the padded audio shifted the padding to -mean/std and changed the
    statistics of the real samples."""
    from emocast.neural.tiny import tiny_pipeline

    rng = np.random.default_rng(0)
    a = (0.3 * rng.standard_normal(16000) + 0.1).astype(np.float32)
    padded, n, n_pad = pad_audio(normalise(a), 25, 16)
    assert np.all(padded[len(a):] == 0) and abs(padded[:len(a)].mean()) < 1e-5
    pipe = tiny_pipeline()
    want = wav2vec_features(pipe.audio_encoder, padded, n_pad, normalised=True)
    assert torch.allclose(pipe.encode_audio(padded, n_pad)[:, 2], want, atol=1e-6)  # window centre
    raw_padded, _, _ = pad_audio(a, 25, 16)  # the old order: pad the raw samples, then normalise
    old = wav2vec_features(pipe.audio_encoder, raw_padded, n_pad)
    assert not torch.allclose(old[n:], want[n:], atol=1e-3)


def test_audio_windows_clamp_at_edges():
    f = torch.arange(6, dtype=torch.float32)[:, None, None].expand(6, 2, 3)
    w = audio_windows(f, 5)
    assert w.shape == (6, 5, 2, 3)
    assert w[:, :, 0, 0].tolist()[0] == [0, 0, 0, 1, 2]
    assert w[:, :, 0, 0].tolist()[3] == [1, 2, 3, 4, 5]
    assert w[:, :, 0, 0].tolist()[5] == [3, 4, 5, 5, 5]


def test_wav2vec_features_match_transformers_hidden_states(tiny):
    model = tiny["audio_encoder"]
    a = np.random.default_rng(0).standard_normal(8000).astype(np.float32)
    x = torch.from_numpy(normalise(a))[None]
    n50 = model.feature_extractor(x).shape[-1]
    ours = wav2vec_features(model, a, n50)                   # no resampling -> same as the model
    with torch.no_grad():
        ref = torch.stack(model(x, output_hidden_states=True).hidden_states[1:], 2)[0]
    assert ours.shape == (n50, 2, 32) and torch.allclose(ours, ref, atol=1e-5)
    assert wav2vec_features(model, a, 13).shape == (13, 2, 32)   # resampled to 25 fps


def test_arcface_alignment_maps_points_to_template():
    rng = np.random.default_rng(0)
    lm = _mesh()
    lm[[33, 133]] = [[140, 160], [170, 160]]
    lm[[362, 263]] = [[230, 160], [260, 160]]
    pts = five_points(lm)
    assert pts[0, 0] < pts[1, 0] and pts[3, 0] < pts[4, 0]
    # an image whose 5 points are the template scaled x3 and shifted must warp back onto it
    pts = ARCFACE_TEMPLATE * 3 + 20
    img = np.zeros((400, 400, 3), np.uint8)
    for p in pts.astype(int):
        img[p[1] - 2:p[1] + 3, p[0] - 2:p[0] + 3] = 255
    out = align_face(img, pts)
    assert out.shape == (112, 112, 3)
    for p in ARCFACE_TEMPLATE.astype(int):
        assert out[p[1], p[0]].max() > 100
    with pytest.raises(ValueError):
        five_points(rng.random((10, 2)))


def test_three_d_landmarks_give_the_same_boxes_and_masks_as_their_x_y():
    """MediaPipe's (478, 3) landmarks (x, y, z) are read as x, y, not reshaped into garbage pairs."""
    from emocast.neural.masks import boxes_from_landmarks, points_2d

    lm2 = _mesh()
    lm3 = np.concatenate([lm2, np.linspace(-30, 30, len(lm2), dtype=np.float32)[:, None]], 1)
    assert boxes_from_landmarks(lm3) == boxes_from_landmarks(lm2)
    a, b = region_masks(lm3, (400, 400)), region_masks(lm2, (400, 400))
    assert np.array_equal(a.face_box_image, b.face_box_image) and a.lip_box == b.lip_box
    assert all(np.array_equal(x, y) for x, y in zip(a.lip, b.lip))
    assert np.array_equal(five_points(lm3), five_points(lm2))
    assert points_2d(lm2.reshape(-1)).shape == (478, 2)
    with pytest.raises(ValueError):
        points_2d(np.zeros((10, 4)))


def test_arcface_alignment_is_a_least_squares_fit_of_all_five_points():
    """As insightface's norm_crop: every point counts, so one displaced point moves the whole fit
    (a robust LMEDS fit would ignore it), and exact points are mapped exactly."""
    from emocast.neural.face_embed import similarity_to_template

    a = np.radians(12)
    R = 2.5 * np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    pts = (ARCFACE_TEMPLATE - [10, 5]) @ np.linalg.inv(R).T  # a similarity image of the template
    m = similarity_to_template(pts)
    assert np.abs(pts @ m[:, :2].T + m[:, 2] - ARCFACE_TEMPLATE).max() < 1e-4
    moved = pts.copy()
    moved[4] += [6.0, -4.0]
    m2 = similarity_to_template(moved)
    from skimage.transform import SimilarityTransform

    t = SimilarityTransform()
    t.estimate(moved.astype(np.float64), ARCFACE_TEMPLATE.astype(np.float64))
    assert np.allclose(m2, t.params[:2])
    residual = np.abs(moved[:4] @ m2[:, :2].T + m2[:, 2] - ARCFACE_TEMPLATE[:4]).max()
    assert residual > 0.1  # the displaced fifth point pulled the fit off the other four


def test_a_box_that_leaves_the_image_is_shifted_inside_as_in_the_release():
    """The release's expand_region keeps the expanded size and moves the box back into the image;
    cutting it at the border (as before) made a face near the edge smaller."""
    from emocast.neural.masks import expand_box

    assert expand_box((10, 20, 110, 120), 1.2, 400, 400) == (0, 10, 120, 130)  # left edge: shifted right
    assert expand_box((300, 300, 390, 395), 1.2, 400, 400) == (291, 286, 399, 400)  # bottom: shifted up
    assert expand_box((100, 100, 201, 201), 2.0, 1000, 1000) == (49, 49, 251, 251)  # floored centre
    lm = _mesh(face=(2, 80, 202, 330))  # face touching the left border
    m = region_masks(lm, (400, 400), size=400)
    x0, y0, x1, y1 = m.face_box
    assert x0 == 0 and x1 - x0 == pytest.approx(240, abs=1)  # 1.2 x 200, not cut to 222
