"""Build the shipped demo sample: samples/demo.mp4 and samples/demo.jpg.

A hospital bedside scene composed from real photographs that ship inside scikit-image
(``skimage.data.astronaut()`` as the patient, two ``skimage.data.lfw_subset()`` faces as a
member of staff and a bystander), with a staff name badge and a monitor showing fictitious
patient details drawn with Pillow. The camera pans slowly and wobbles like a hand-held phone,
the nurse sways and the bystander walks past the door, so tracking matters. The audio is
generated speech-like babble plus a bedside monitor beep, encoded as AAC.

Everything is deterministic (no clock, seeded noise). Run from the repository root::

    .venv/bin/python samples/make_samples.py            # writes samples/demo.mp4, samples/demo.jpg
    .venv/bin/python samples/make_samples.py --out DIR  # somewhere else
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import sys
import tempfile
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont
from PIL.ExifTags import IFD

log = logging.getLogger("make_samples")

FPS = 25
SECONDS = 4
N_FRAMES = FPS * SECONDS
WIDTH, HEIGHT = 960, 540
WORLD = (1110, 600)  # the scene the camera pans across
PAN_X = 110  # camera travels this far to the right over the clip
AUDIO_RATE = 48000
STILL_FRAME = 70  # the frame written as demo.jpg (bystander in the doorway)

NHS_BLUE = (0, 94, 184)
PATIENT_NAME = "John Example"
PATIENT_DOB = "01/02/1960"
NHS_NUMBER = "943 476 5919"  # the standard fictitious NHS test number
WARD = "Ward 7"
STAFF_NAME = "Dr Jane Example"
STAFF_ROLE = "Staff Nurse"
STAFF_FACE = 52  # indices into skimage.data.lfw_subset() (0-99 are faces)
BYSTANDER_FACE = 63


# -- NHS number -------------------------------------------------------------------------------

def nhs_check_digit(first_nine: str) -> int | None:
    """Modulus-11 check digit of the first nine digits of an NHS number (None: no valid number)."""
    digits = [int(c) for c in first_nine if c.isdigit()]
    if len(digits) != 9:
        raise ValueError("need exactly nine digits")
    total = sum(d * w for d, w in zip(digits, range(10, 1, -1)))
    check = 11 - total % 11
    if check == 11:
        return 0
    return None if check == 10 else check


def nhs_number_valid(number: str) -> bool:
    digits = "".join(c for c in number if c.isdigit())
    return len(digits) == 10 and nhs_check_digit(digits[:9]) == int(digits[9])


# -- fonts and faces --------------------------------------------------------------------------

def _font_dirs() -> list[Path]:
    dirs = []
    try:  # matplotlib (a mediapipe dependency) ships DejaVu: same glyphs on every machine
        import matplotlib

        dirs.append(Path(matplotlib.get_data_path()) / "fonts" / "ttf")
    except ImportError:
        log.debug("matplotlib not installed; looking for system fonts")
    dirs.append(Path("/usr/share/fonts/truetype/dejavu"))
    return dirs


def font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    for d in _font_dirs():
        if (d / name).is_file():
            return ImageFont.truetype(str(d / name), size)
    log.warning("DejaVu fonts not found; using Pillow's built-in font")
    return ImageFont.load_default(size=size)


def lfw_face(index: int, size: int, tone: tuple[float, float, float]) -> Image.Image:
    """A real LFW face crop (25x25 grey), enlarged and tinted to a skin tone, with a soft oval alpha."""
    from skimage.data import lfw_subset

    grey = Image.fromarray((lfw_subset()[index] * 255).astype(np.uint8))
    grey = grey.resize((size, size), Image.BICUBIC).filter(ImageFilter.GaussianBlur(0.8))
    g = np.asarray(grey, np.float32) / 255.0
    rgb = np.stack([np.clip(25 + g * 235 * t, 0, 255) for t in tone], -1).astype(np.uint8)
    face = Image.fromarray(rgb).convert("RGBA")
    face.putalpha(oval_mask((size, size), inset=size // 14, feather=size / 18))
    return face


def oval_mask(size: tuple[int, int], inset: int, feather: float) -> Image.Image:
    m = Image.new("L", size, 0)
    ImageDraw.Draw(m).ellipse((inset, inset, size[0] - inset, size[1] - inset), fill=255)
    return m.filter(ImageFilter.GaussianBlur(feather))


def patient_head() -> Image.Image:
    """Eileen Collins' head and hair from skimage.data.astronaut(), on a soft oval mask."""
    from skimage.data import astronaut

    crop = Image.fromarray(astronaut()).crop((140, 8, 310, 188)).convert("RGBA")
    mask = Image.new("L", crop.size, 0)
    ImageDraw.Draw(mask).ellipse((8, 4, crop.width - 8, crop.height - 2), fill=255)
    crop.putalpha(mask.filter(ImageFilter.GaussianBlur(5)))
    return crop.resize((150, 159), Image.LANCZOS)


# -- scene pieces -----------------------------------------------------------------------------

def _gradient(size: tuple[int, int], top: tuple[int, int, int], bottom: tuple[int, int, int]) -> Image.Image:
    t = np.linspace(0.0, 1.0, size[1], dtype=np.float32)[:, None, None]
    col = (1 - t) * np.array(top, np.float32) + t * np.array(bottom, np.float32)
    return Image.fromarray(np.repeat(col, size[0], axis=1).astype(np.uint8))


def monitor_lines() -> list[str]:
    return [f"Name: {PATIENT_NAME}", f"DOB: {PATIENT_DOB}", f"NHS No: {NHS_NUMBER}", WARD]


def draw_monitor(img: Image.Image, box: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    """A wall-mounted bedside monitor with the patient's details; returns the screen box."""
    d = ImageDraw.Draw(img)
    x1, y1, x2, y2 = box
    d.rectangle((x1 + (x2 - x1) // 2 - 12, y1 - 30, x1 + (x2 - x1) // 2 + 12, y1), fill=(120, 126, 132))
    d.rounded_rectangle((x1 + 5, y1 + 7, x2 + 5, y2 + 7), 12, fill=(150, 160, 168))  # shadow
    d.rounded_rectangle(box, 12, fill=(38, 40, 44))
    screen = (x1 + 14, y1 + 14, x2 - 14, y2 - 26)
    d.rectangle(screen, fill=(10, 22, 40))
    d.ellipse((x2 - 26, y2 - 19, x2 - 18, y2 - 11), fill=(80, 220, 120))
    sx, sy = screen[0] + 16, screen[1] + 10
    d.rectangle((screen[0], screen[1], screen[2], screen[1] + 4), fill=NHS_BLUE)
    big = font(24, bold=True)
    for k, line in enumerate(monitor_lines()):
        d.text((sx, sy + 8 + k * 36), line, font=big, fill=(235, 242, 250))
    return screen


def draw_ecg(img: Image.Image, screen: tuple[int, int, int, int], frame: int) -> None:
    """A scrolling green trace along the bottom of the monitor screen."""
    d = ImageDraw.Draw(img)
    x1, y2 = screen[0] + 16, screen[3] - 12
    width = screen[2] - screen[0] - 32
    pts = []
    for k in range(0, width, 2):
        phase = ((k + frame * 6) % 110) / 110.0
        spike = math.exp(-((phase - 0.5) ** 2) / 0.0009) * 20 - math.exp(-((phase - 0.56) ** 2) / 0.0006) * 7
        pts.append((x1 + k, y2 - 6 - spike + 2 * math.sin(phase * 6.28)))
    d.line(pts, fill=(90, 230, 130), width=2)


def draw_bed(img: Image.Image, head: Image.Image) -> None:
    d = ImageDraw.Draw(img)
    d.ellipse((30, 560, 490, 600), fill=(170, 166, 156))  # shadow on the floor
    d.rounded_rectangle((40, 280, 84, 590), 10, fill=(150, 158, 166))  # head board
    d.rounded_rectangle((84, 470, 480, 575), 18, fill=(120, 128, 138))  # bed frame
    d.rounded_rectangle((96, 318, 340, 448), 40, fill=(247, 247, 244))  # pillow
    img.alpha_composite(head, (152, 290))
    # gown over the shoulders, then the blanket
    d.rounded_rectangle((124, 428, 384, 530), 50, fill=(150, 190, 215))
    d.polygon([(209, 429), (279, 429), (244, 456)], fill=(226, 183, 160))
    for x in range(134, 384, 22):
        for y in range(446, 520, 22):
            d.ellipse((x, y, x + 5, y + 5), fill=(120, 160, 190))
    d.rounded_rectangle((100, 500, 478, 566), 20, fill=(236, 240, 246))
    d.rectangle((100, 500, 478, 514), fill=(210, 220, 234))


def draw_badge(size: tuple[int, int], photo: Image.Image) -> Image.Image:
    """An ID card: blue band, small photo, name and role."""
    w, h = size
    card = Image.new("RGBA", size, (0, 0, 0, 0))
    d = ImageDraw.Draw(card)
    d.rounded_rectangle((0, 0, w - 1, h - 1), 10, fill=(252, 252, 250), outline=(180, 186, 192), width=2)
    d.rounded_rectangle((0, 0, w - 1, 34), 10, fill=NHS_BLUE)
    d.rectangle((0, 20, w - 1, 34), fill=NHS_BLUE)
    d.text((14, 7), "EXAMPLE HOSPITAL", font=font(16, bold=True), fill=(255, 255, 255))
    pw, ph = 62, 76
    bg = Image.new("RGBA", (pw, ph), (205, 222, 238, 255))
    face = photo.resize((pw + 10, pw + 10), Image.LANCZOS)
    bg.alpha_composite(face, (-5, ph - pw - 8))
    card.alpha_composite(bg, (12, 44))
    d.rectangle((12, 44, 12 + pw - 1, 44 + ph - 1), outline=(150, 160, 170))
    d.text((86, 52), STAFF_NAME, font=font(20, bold=True), fill=(20, 24, 30))
    d.text((86, 84), STAFF_ROLE, font=font(19), fill=(60, 66, 74))
    d.rectangle((86, 112, w - 14, 117), fill=NHS_BLUE)
    return card


def make_person(face: Image.Image, tunic: tuple[int, int, int], hair: tuple[int, int, int],
                skin: tuple[int, int, int], badge: Image.Image | None) -> Image.Image:
    """A head-and-shoulders sprite around a real face; the face is ``face.size`` wide."""
    fs = face.width
    w, h = int(fs * 3.2), int(fs * 4.2)
    s = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    d = ImageDraw.Draw(s)
    cx, top = w // 2, int(fs * 0.12)
    d.ellipse((cx - fs * 0.62, top - fs * 0.1, cx + fs * 0.62, top + fs * 1.25), fill=hair)  # hair
    d.rectangle((cx - fs * 0.55, top + fs * 0.5, cx + fs * 0.55, top + fs * 1.55), fill=hair)
    d.rectangle((cx - fs * 0.2, top + fs * 0.8, cx + fs * 0.2, top + fs * 1.45), fill=skin)  # neck
    d.rounded_rectangle((cx - fs * 1.45, top + fs * 1.3, cx + fs * 1.45, h + fs), int(fs * 0.5), fill=tunic)
    d.polygon([(cx - fs * 0.32, top + fs * 1.3), (cx + fs * 0.32, top + fs * 1.3), (cx, top + fs * 1.75)],
              fill=skin)  # V neck
    d.line([(cx - fs * 0.34, top + fs * 1.3), (cx, top + fs * 1.78), (cx + fs * 0.34, top + fs * 1.3)],
           fill=(235, 240, 245), width=max(2, fs // 30))
    d.ellipse((cx - fs * 0.47, top + fs * 0.05, cx + fs * 0.47, top + fs * 1.1), fill=skin)  # head
    s.alpha_composite(face, (cx - fs // 2, top))
    if badge is not None:  # clipped to the left of the chest on a blue lanyard
        bx, by = cx - badge.width // 2 - int(fs * 0.25), top + int(fs * 1.95)
        for side in (-1, 1):
            d.line([(cx + side * fs * 0.3, top + fs * 1.32), (bx + badge.width * (0.5 + side * 0.08), by + 4)],
                   fill=NHS_BLUE, width=max(3, fs // 28))
        s.alpha_composite(badge, (bx, by))
    return s


@dataclass
class Assets:
    background: Image.Image  # the static room, RGBA, WORLD sized
    screen: tuple[int, int, int, int]
    door: tuple[int, int, int, int]
    corridor: Image.Image
    staff: Image.Image
    bystander: Image.Image


def build_assets() -> Assets:
    w, h = WORLD
    room = _gradient((w, h), (226, 234, 238), (204, 214, 220)).convert("RGBA")
    d = ImageDraw.Draw(room)
    d.rectangle((0, 500, w, h), fill=(196, 190, 178))  # floor
    d.rectangle((0, 492, w, 504), fill=(150, 160, 170))  # skirting board
    d.rectangle((0, 300, w, 306), fill=(176, 190, 200))  # dado rail
    door = (870, 120, 1030, 500)
    d.rectangle((door[0] - 10, door[1] - 10, door[2] + 10, door[3]), fill=(150, 160, 170))
    corridor = _gradient((door[2] - door[0], door[3] - door[1]), (242, 240, 232), (214, 208, 196)).convert("RGBA")
    cd = ImageDraw.Draw(corridor)
    cd.rectangle((0, 0, corridor.width, 30), fill=(250, 250, 246))
    cd.rectangle((0, corridor.height - 60, corridor.width, corridor.height), fill=(186, 180, 168))
    draw_bed(room, patient_head())
    screen = draw_monitor(room, (130, 50, 490, 300))
    staff_face = lfw_face(STAFF_FACE, 104, (1.0, 0.84, 0.74))
    staff = make_person(staff_face, tunic=(30, 72, 140), hair=(70, 50, 38), skin=(222, 180, 152),
                        badge=draw_badge((284, 128), staff_face))
    by_face = lfw_face(BYSTANDER_FACE, 64, (0.98, 0.80, 0.66))
    bystander = make_person(by_face, tunic=(96, 104, 84), hair=(50, 42, 36), skin=(210, 166, 136), badge=None)
    return Assets(room, screen, door, corridor, staff, bystander)


def camera_offset(i: int) -> tuple[int, int]:
    """Slow pan to the right plus a deterministic hand-held wobble (a few px)."""
    t = i / max(N_FRAMES - 1, 1)
    ease = 0.5 - 0.5 * math.cos(math.pi * t)
    x = 5 + ease * (PAN_X - 10) + 3.0 * math.sin(i * 0.37) + 1.5 * math.sin(i * 1.3)
    y = 20 + 4.0 * math.sin(i * 0.23 + 1.0) + 1.5 * math.sin(i * 1.1)
    return int(round(x)), int(round(y))


def render_frame(assets: Assets, i: int) -> np.ndarray:
    """Frame ``i`` of the clip as an (HEIGHT, WIDTH, 3) uint8 RGB array."""
    world = assets.background.copy()
    draw_ecg(world, assets.screen, i)
    # bystander walks left to right past the open door, clipped by its frame
    corridor = assets.corridor.copy()
    bx = int(-200 + i * 3.0)
    corridor.alpha_composite(assets.bystander, (bx, 80 + int(3 * abs(math.sin(i * 0.45)))))
    world.alpha_composite(corridor, assets.door[:2])
    # the nurse sways gently in front of the wall
    sx = int(478 + 16 * math.sin(i * 0.09) + 4 * math.sin(i * 0.31))
    sy = int(150 + 4 * math.sin(i * 0.17))
    world.alpha_composite(assets.staff, (sx, sy))
    ox, oy = camera_offset(i)
    return np.asarray(world.crop((ox, oy, ox + WIDTH, oy + HEIGHT)).convert("RGB"))


# -- audio ------------------------------------------------------------------------------------

_VOWELS = [(800, 1200), (400, 2000), (300, 2300), (500, 900), (350, 800), (600, 1700)]


def make_audio(seconds: float = SECONDS, rate: int = AUDIO_RATE, seed: int = 7) -> np.ndarray:
    """Speech-like babble (voiced syllables with formants) plus a monitor beep; float32 mono."""
    rng = np.random.default_rng(seed)
    n = int(seconds * rate)
    t = np.arange(n) / rate
    out = np.zeros(n, np.float64)
    pos = 0.15
    while pos < seconds - 0.3:
        for _ in range(int(rng.integers(2, 5))):  # a word of 2-4 syllables
            dur = float(rng.uniform(0.12, 0.22))
            f1, f2 = _VOWELS[int(rng.integers(len(_VOWELS)))]
            f0 = float(rng.uniform(170, 215))
            a, b = int(pos * rate), min(int((pos + dur) * rate), n)
            tt = t[a:b] - pos
            pitch = f0 * (1 + 0.06 * np.sin(2 * np.pi * 3 * tt) - 0.08 * tt / dur)
            phase = 2 * np.pi * np.cumsum(pitch) / rate
            syl = np.zeros(b - a)
            for k in range(1, 30):
                fk = f0 * k
                gain = 1 / (1 + ((fk - f1) / 90) ** 2) + 0.6 / (1 + ((fk - f2) / 120) ** 2) + 0.02
                syl += gain * np.sin(k * phase)
            env = np.sin(np.pi * np.clip(tt / dur, 0, 1)) ** 1.5
            out[a:b] += 0.09 * syl * env
            pos += dur + float(rng.uniform(0.02, 0.06))
        pos += float(rng.uniform(0.15, 0.35))
    for start in np.arange(0.5, seconds, 1.0):  # bedside monitor beep once a second
        a, b = int(start * rate), min(int((start + 0.12) * rate), n)
        tt = t[a:b] - start
        out[a:b] += 0.12 * np.sin(2 * np.pi * 980 * tt) * np.minimum(1, np.minimum(tt, 0.12 - tt) / 0.005)
    out += 0.004 * rng.standard_normal(n)  # room tone
    return np.clip(out, -0.95, 0.95).astype(np.float32)


# -- writing ----------------------------------------------------------------------------------

def write_video(path: Path, assets: Assets, audio: np.ndarray) -> None:
    """Encode H.264 (yuv420p, CRF 24) + AAC mono into an .mp4, via a temp file renamed at the end."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".mp4", dir=path.parent)
    os.close(fd)
    try:
        with av.open(tmp, "w", format="mp4", options={"movflags": "+faststart"}) as out:
            vs = out.add_stream("libx264", rate=FPS)
            vs.width, vs.height, vs.pix_fmt = WIDTH, HEIGHT, "yuv420p"
            vs.options = {"crf": "24", "preset": "medium"}
            aus = out.add_stream("aac", rate=AUDIO_RATE, layout="mono")
            aus.bit_rate = 96000
            chunk = 1024
            for k in range(0, len(audio), chunk):
                af = av.AudioFrame.from_ndarray(audio[None, k:k + chunk], format="fltp", layout="mono")
                af.sample_rate, af.pts, af.time_base = AUDIO_RATE, k, Fraction(1, AUDIO_RATE)
                out.mux(aus.encode(af))
            out.mux(aus.encode(None))
            for i in range(N_FRAMES):
                vf = av.VideoFrame.from_ndarray(render_frame(assets, i), format="rgb24")
                vf.pts = i
                out.mux(vs.encode(vf))
            out.mux(vs.encode(None))
        os.chmod(tmp, 0o644)  # mkstemp makes 0600 files; samples are for everyone to read
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_still(path: Path, assets: Assets) -> None:
    """One frame as JPEG with EXIF orientation 1, a fake phone make/model and a fake GPS block."""
    img = Image.fromarray(render_frame(assets, STILL_FRAME))
    exif = Image.Exif()
    exif[0x0112] = 1  # Orientation: top-left
    exif[0x010F] = "ExampleCam"  # Make
    exif[0x0110] = "Demo Phone 1"  # Model
    exif[0x0132] = "2024:01:02 10:30:00"  # DateTime
    gps = exif.get_ifd(IFD.GPSInfo)
    gps[0] = b"\x02\x03\x00\x00"  # GPSVersionID
    gps[1], gps[2] = "N", (51.0, 30.0, 7.0)  # GPSLatitudeRef, GPSLatitude (fake)
    gps[3], gps[4] = "W", (0.0, 7.0, 39.0)  # GPSLongitudeRef, GPSLongitude (fake)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".jpg", dir=path.parent)
    os.close(fd)
    try:
        img.save(tmp, "JPEG", quality=90, exif=exif)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=Path(__file__).resolve().parent, help="output folder")
    args = p.parse_args(argv)
    if not nhs_number_valid(NHS_NUMBER):
        raise SystemExit(f"{NHS_NUMBER} fails the NHS Modulus-11 check")
    args.out.mkdir(parents=True, exist_ok=True)
    assets = build_assets()
    write_video(args.out / "demo.mp4", assets, make_audio())
    write_still(args.out / "demo.jpg", assets)
    for name in ("demo.mp4", "demo.jpg"):
        log.info("wrote %s (%d bytes)", args.out / name, (args.out / name).stat().st_size)
    return 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    sys.exit(main())
