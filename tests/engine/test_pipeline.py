"""The cut-out pipeline on real photos, and its pure pre/post-processing steps."""

import io

import cv2
import numpy as np
import pytest
from PIL import Image

from remover.engine import compose
from remover.engine.imageio import decode_image
from remover.engine.pipeline import Background, cut_out, remove_background, render
from remover.engine.refine import MAX_PUSH, estimate_foreground, full_resolution_alpha
from remover.engine.segmenter import (
    UNSURE_LIMIT,
    Segmenter,
    fuse_parts,
    letterbox,
    stretch,
    unsure_fraction,
    worth_a_second_look,
)
from tests.conftest import png_bytes


@pytest.fixture(scope="module")
def astronaut_cutout(astronaut, segmenter):
    stages = []
    result = cut_out(decode_image(png_bytes(astronaut)), segmenter, lambda s, p: stages.append((s, p)))
    return result, stages


def test_astronaut_is_kept_and_backdrop_removed(astronaut_cutout):
    result, _ = astronaut_cutout
    alpha = result.alpha
    assert alpha.shape == (512, 512)
    # Face, orange suit and helmet (regions checked by eye on the photo) are subject.
    assert alpha[120:150, 200:240].min() > 240  # face
    assert alpha[320:380, 60:120].mean() > 240  # suit, left arm
    assert alpha[420:480, 330:400].mean() > 240  # helmet
    # The plain backdrop at the top right and the flag at the top left are background.
    assert alpha[20:120, 380:500].max() < 10
    assert alpha[10:60, 10:60].max() < 10
    # Soft alpha: the outline carries fractional values, not a binary cut.
    fractional = ((alpha > 10) & (alpha < 245)).sum()
    assert fractional > 300


def test_progress_reports_stages_in_order(astronaut_cutout):
    _, stages = astronaut_cutout
    names = [s for s, _ in stages]
    assert names[0] == "segmenting" and "refining" in names
    percents = [p for _, p in stages]
    assert percents == sorted(percents) and all(0 <= p <= 100 for p in percents)


def test_backgrounds_render_as_documented(astronaut_cutout, astronaut):
    result, _ = astronaut_cutout
    assert render(result, Background()).mode == "RGBA"
    assert render(result, Background(kind="mask")).mode == "L"
    green = np.asarray(render(result, Background.parse("#00FF00")))
    assert tuple(green[40, 450]) == (0, 255, 0)  # backdrop replaced
    assert np.abs(green[130, 220].astype(int) - astronaut[130, 220]).max() <= 3  # face untouched
    scene = np.zeros((100, 300, 3), np.uint8)
    scene[:, :150] = (0, 0, 255)
    on_scene = np.asarray(render(result, Background(kind="image", scene=scene)))
    assert on_scene.shape == (512, 512, 3) and on_scene[40, 450, 2] < 50
    blurred = np.asarray(render(result, Background(kind="blur"), astronaut), dtype=int)
    assert blurred.shape == (512, 512, 3)
    # Behind the subject: the photo blurred with sigma 2% of its long side (0.2 grey levels
    # from a full-size Gaussian; the sharp photo is 18 away).
    expected = cv2.GaussianBlur(astronaut, (0, 0), 0.02 * 512).astype(int)
    assert np.abs(blurred - expected)[result.alpha == 0].mean() < 2
    with pytest.raises(ValueError, match="original"):
        render(result, Background(kind="blur"))


def test_remove_background_encodes_each_format(astronaut, segmenter):
    source = png_bytes(astronaut[:256])
    png = Image.open(io.BytesIO(remove_background(source, segmenter)))
    assert png.mode == "RGBA" and png.size == (512, 256)
    jpg = Image.open(io.BytesIO(remove_background(source, segmenter, fmt="jpg")))
    assert jpg.format == "JPEG" and jpg.mode == "RGB"
    # JPEG has no alpha: a transparent request is flattened on white.
    assert np.asarray(jpg)[30, 470].min() > 235


def test_input_transparency_is_kept(astronaut, segmenter):
    rgba = np.dstack((astronaut, np.full((512, 512), 255, np.uint8)))
    rgba[:, :256, 3] = 0  # the left half was already cut away by the user
    out = Image.open(io.BytesIO(remove_background(png_bytes(rgba), segmenter)))
    alpha = np.asarray(out)[..., 3]
    assert alpha[:, :256].max() == 0
    assert alpha[320:380, 300:340].min() > 200  # the right half of the suit is still there


def test_letterbox_keeps_aspect_and_pads_with_mid_grey():
    x, place = letterbox(np.full((100, 400, 3), 255, np.uint8), size=64)
    assert x.shape == (3, 64, 64)
    assert (place.height, place.width, place.top, place.left) == (16, 64, 24, 0)
    assert float(x[0, 0, 0]) == 0.0 and float(x[0, 30, 30]) == pytest.approx(0.5)


def test_stretch_fills_the_square():
    x, place = stretch(np.full((100, 400, 3), 255, np.uint8), size=64)
    assert x.shape == (3, 64, 64) and (place.height, place.width, place.top, place.left) == (64, 64, 0, 0)
    assert float(x.min()) == pytest.approx(0.5)  # no grey padding anywhere


class ScriptedSegmenter(Segmenter):
    """No model: answers each canvas with ``answers[framing](rows, cols)``, a map over the image
    (rows x cols of the canvas it fills), and records which framings it was shown."""

    def __init__(self, framing: str, answers: dict):
        self.framing, self.answers, self.shown = framing, answers, []

    def forward(self, batch, progress=None):
        import torch

        size = batch.shape[-1]
        out = torch.zeros(batch.shape[0], 1, size, size)
        for i, canvas in enumerate(batch):
            rows = torch.nonzero((canvas != 0).any(dim=0).any(dim=1)).flatten()  # the image, not the grey margin
            top, bottom = int(rows[0]), int(rows[-1]) + 1
            name = "letterbox" if (top, bottom) != (0, size) else "stretch"
            self.shown.append(name)
            out[i, 0, top:bottom] = torch.from_numpy(self.answers[name](bottom - top, size))
        if progress:
            progress(1.0)
        return out


def constant(value: float):
    return lambda rows, cols: np.full((rows, cols), value, np.float32)


def block(*boxes: tuple[float, float, float, float, float]):
    """A map holding ``value`` in each (top, bottom, left, right, value) box, in fractions of the image."""
    def answer(rows, cols):
        prob = np.zeros((rows, cols), np.float32)
        for top, bottom, left, right, value in boxes:
            prob[round(top * rows):round(bottom * rows), round(left * cols):round(right * cols)] = value
        return prob
    return answer


WIDE = np.full((100, 400, 3), 200, np.uint8)
CLEAN = block((0.2, 0.8, 0.1, 0.5, 1.0))  # a sure answer


def test_a_sure_stretched_answer_is_kept_without_a_second_pass():
    model = ScriptedSegmenter("auto", {"stretch": CLEAN, "letterbox": constant(0.0)})
    (prob,) = model.predict([WIDE])
    assert model.shown == ["stretch"]
    assert prob.shape == (256, 1024)  # on the image's aspect, long side 1024
    assert prob[128, 300] == pytest.approx(1.0) and prob[128, 800] == 0.0


def test_a_doubtful_stretched_answer_is_looked_at_again_letterboxed():
    model = ScriptedSegmenter("auto", {"stretch": constant(0.5), "letterbox": CLEAN})
    seen = []
    (prob,) = model.predict([WIDE], progress=seen.append)
    assert model.shown == ["stretch", "letterbox"]
    assert prob.shape == (256, 1024)
    assert seen == sorted(seen) and seen[-1] == 1.0
    # In a batch only the doubtful photo goes round again.
    mixed = ScriptedSegmenter("auto", {"stretch": constant(0.5), "letterbox": CLEAN})
    mixed.answers["stretch"] = lambda rows, cols: (CLEAN if len(mixed.shown) == 2 else constant(0.5))(rows, cols)
    maps = mixed.predict([WIDE, np.full((64, 64, 3), 9, np.uint8)])
    assert mixed.shown == ["stretch", "stretch", "letterbox"]
    assert [m.shape for m in maps] == [(256, 1024), (1024, 1024)]


def test_a_subject_whose_parts_each_framing_sees_differently_keeps_both_parts():
    # Stretched, the model finds the left part (with a soft, doubtful surround) and only hints
    # at the right one; letterboxed, it finds the right part that touches it, and a blob far
    # from the subject that is not there.
    left = block((0.1, 0.9, 0.02, 0.48, 0.5), (0.25, 0.75, 0.1, 0.4, 1.0), (0.3, 0.7, 0.48, 0.7, 0.2))
    right = block((0.25, 0.75, 0.4, 0.7, 1.0), (0.4, 0.6, 0.9, 0.97, 1.0))
    model = ScriptedSegmenter("auto", {"stretch": left, "letterbox": right})
    (prob,) = model.predict([WIDE])
    assert model.shown == ["stretch", "letterbox"]
    rows = slice(90, 166)  # the middle of the subject's rows on the 256 x 1024 map
    assert prob[rows, 110:400].min() > 0.99  # the part only the stretched framing saw
    assert prob[rows, 415:710].min() > 0.99  # the part only the letterboxed framing saw
    assert prob[:, 930:990].max() == 0.0  # the lone blob away from the subject is not added
    # Where the second framing sees nothing, the first map is kept as it was.
    base, other = left(256, 1024), right(256, 1024)
    fused = fuse_parts(base, other)
    assert (fused[:, :300] == base[:, :300]).all() and fused[rows, 415:710].min() == 1.0


def test_a_part_the_first_framing_sees_as_plain_background_is_not_added():
    # A dog on a couch: letterboxed, the model takes the couch as well, a region touching the
    # dog that the stretched map rates as background everywhere.
    dog = block((0.2, 0.8, 0.25, 0.65, 0.5), (0.3, 0.7, 0.3, 0.6, 1.0))
    dog_and_couch = block((0.3, 0.7, 0.3, 0.6, 1.0), (0.5, 1.0, 0.0, 1.0, 1.0))
    base, other = dog(256, 1024), dog_and_couch(256, 1024)
    assert (base > 0.5).any() and (other[base < 0.5] > 0.5).any()  # there is a part to add
    assert (fuse_parts(base, other) == base).all()
    # The same region with a faint hint from the first framing on a fifth of it is added.
    hinted = block((0.2, 0.8, 0.25, 0.65, 0.5), (0.3, 0.7, 0.3, 0.6, 1.0), (0.85, 1.0, 0.0, 1.0, 0.15))(256, 1024)
    assert fuse_parts(hinted, other)[200:, 10:100].min() == 1.0


def test_only_doubtful_maps_get_a_second_look():
    inside = np.zeros((100, 100), np.float32)
    inside[30:70, 30:70] = 1.0
    assert not worth_a_second_look(inside)  # sure
    blurred = inside.copy()
    blurred[20:80, 20:80] = np.maximum(blurred[20:80, 20:80], 0.5)  # a wide unsure ring
    assert worth_a_second_look(blurred) and unsure_fraction(blurred) > UNSURE_LIMIT


def test_fixed_framings_run_once():
    for framing in ("letterbox", "stretch"):
        model = ScriptedSegmenter(framing, {"stretch": constant(0.5), "letterbox": constant(0.5)})
        model.predict([WIDE])
        assert model.shown == [framing]
    with pytest.raises(ValueError, match="framing"):
        Segmenter(framing="crop")


def test_probability_resizing_stays_soft_and_in_range():
    prob = np.zeros((64, 64), np.float32)
    prob[:, 32:] = 1.0
    up = full_resolution_alpha(prob, 256, 256)
    assert up.shape == (256, 256) and up.min() >= 0.0 and up.max() <= 1.0
    assert ((up > 0.05) & (up < 0.95)).any()  # a soft transition, not a step
    down = full_resolution_alpha(up, 32, 16)
    assert down.shape == (16, 32)


def test_edge_colours_are_decontaminated():
    # Red hair-like subject blended over a green wall with a soft ramp (40 px: within reach
    # of the sure background, beyond which colours are left alone).
    h, w = 64, 200
    alpha = np.tile(np.clip((np.arange(w) - 60) / 40, 0, 1).astype(np.float32), (h, 1))
    red, green = np.array([220, 30, 30], np.float32), np.array([20, 200, 20], np.float32)
    observed = (alpha[..., None] * red + (1 - alpha[..., None]) * green).astype(np.uint8)
    fg = estimate_foreground(observed, alpha)
    # Where alpha explains the mix (alpha >= 1 / (1 + MAX_PUSH)) the colour is recovered;
    # fainter pixels are moved the bounded way towards it.
    for band, share in (((alpha >= 1 / (1 + MAX_PUSH)) & (alpha < 1.0), 0.05), ((alpha > 0.1) & (alpha < 1.0), 0.3)):
        before = np.abs(observed[band].astype(float) - red).mean()
        after = np.abs(fg[band].astype(float) - red).mean()
        assert after < share * before
    assert (fg[alpha >= 1.0] == observed[alpha >= 1.0]).all()  # solid pixels untouched


def test_resized_cutout_keeps_edge_colour():
    fg = np.zeros((40, 40, 3), np.uint8)
    fg[...] = (200, 10, 10)
    alpha = np.zeros((40, 40), np.uint8)
    alpha[10:30, 10:30] = 255
    small = compose.CutOut(fg, alpha).resized(20, 20)
    assert small.size == (20, 20)
    edge = small.alpha > 0
    # Premultiplied resizing: no dark fringe where alpha falls off.
    assert small.foreground[edge][:, 0].min() >= 195


def test_cover_fit_and_colour_parsing():
    scene = np.zeros((50, 200, 3), np.uint8)
    assert compose.cover_fit(scene, 100, 100).shape == (100, 100, 3)
    assert compose.parse_colour("#0a0B0c") == (10, 11, 12)
    with pytest.raises(ValueError, match="six hex digits"):
        compose.parse_colour("red")
