"""Build the shipped demo sample: samples/demo.mp4 (about 4 s, with audio) and samples/demo.jpg (with EXIF GPS).

    .venv/bin/python samples/make_samples.py [--out DIR]

The scene is drawn from real images that ship inside scikit-image (the astronaut photo, NASA, public domain;
faces from its Labeled Faces in the Wild subset) plus drawing: a patient, a member of staff wearing a name badge,
a bystander, and a monitor showing patient details. Every name and number is fictitious; the NHS number is a
well-known test number that passes the Modulus-11 check (checked below). Deterministic: same output every run
(for the same library versions).
"""

from __future__ import annotations

import argparse
import fractions
from pathlib import Path

import av
import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

W, H = 960, 540
FPS = 25
SECONDS = 4
PAN = 80  # px the camera pans over the clip
NHS_BLUE = (0, 94, 184)
NHS_NUMBER = "9434765919"
AUDIO_RATE = 44100


def nhs_number_valid(number: str) -> bool:
    """NHS Modulus-11: weights 10..2 on the first nine digits; 11 - (sum mod 11) is the check digit (11 -> 0)."""
    digits = [int(c) for c in number if c.isdigit()]
    if len(digits) != 10:
        return False
    check = 11 - sum(d * w for d, w in zip(digits[:9], range(10, 1, -1))) % 11
    check = 0 if check == 11 else check
    return check != 10 and check == digits[9]


def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def lfw_face(index: int, size: int, tint=(1.0, 0.84, 0.72)) -> np.ndarray:
    """A real face from scikit-image's LFW subset (25x25 grey), upscaled and tinted to a skin tone."""
    from skimage import data

    grey = data.lfw_subset()[index]
    big = cv2.resize(grey.astype(np.float32), (size, size), interpolation=cv2.INTER_CUBIC)
    rgb = np.clip(big[..., None] * np.array(tint, np.float32) * 255, 0, 255)
    return rgb.astype(np.uint8)


def astronaut_head(height: int) -> np.ndarray:
    from skimage import data

    crop = data.astronaut()[0:300, 110:390]  # head and shoulders
    w = int(round(crop.shape[1] * height / crop.shape[0]))
    return cv2.resize(crop, (w, height), interpolation=cv2.INTER_AREA)


def paste(canvas: np.ndarray, img: np.ndarray, x: int, y: int, mask: np.ndarray | None = None) -> None:
    h, w = img.shape[:2]
    region = canvas[y:y + h, x:x + w]
    if mask is None:
        region[...] = img
    else:
        region[mask] = img[mask]


def oval_mask(h: int, w: int) -> np.ndarray:
    m = np.zeros((h, w), np.uint8)
    cv2.ellipse(m, (w // 2, h // 2), (w // 2 - 1, h // 2 - 1), 0, 0, 360, 255, -1)
    return m.astype(bool)


def background(width: int) -> Image.Image:
    """Ward wall, floor, a bed and a monitor with (fictitious) patient details."""
    img = Image.new("RGB", (width, H), (222, 228, 226))
    d = ImageDraw.Draw(img)
    d.rectangle([0, int(H * 0.74), width, H], fill=(176, 170, 160))  # floor
    d.rectangle([0, int(H * 0.74) - 6, width, int(H * 0.74)], fill=(150, 160, 158))  # skirting
    # monitor on the wall
    mx, my, mw, mh = width - 400, 40, 330, 200
    d.rounded_rectangle([mx - 10, my - 10, mx + mw + 10, my + mh + 10], 8, fill=(40, 42, 46))
    d.rectangle([mx, my, mx + mw, my + mh], fill=(236, 242, 248))
    d.rectangle([mx, my, mx + mw, my + 34], fill=NHS_BLUE)
    d.text((mx + 12, my + 6), "Ward 7  Bed 3", font=font(22), fill=(255, 255, 255))
    lines = ["Name: John Example", "DOB: 01/02/1960", f"NHS No: {NHS_NUMBER[:3]} {NHS_NUMBER[3:6]} {NHS_NUMBER[6:]}"]
    for i, line in enumerate(lines):
        d.text((mx + 14, my + 50 + 46 * i), line, font=font(26), fill=(20, 24, 30))
    d.rectangle([mx + mw // 2 - 6, my + mh + 10, mx + mw // 2 + 6, my + mh + 40], fill=(60, 62, 66))
    # bed: frame, mattress, pillow
    d.rounded_rectangle([30, 300, 430, 420], 12, fill=(245, 245, 240), outline=(190, 190, 185), width=3)
    d.rectangle([30, 400, 430, 430], fill=(120, 130, 140))
    d.rounded_rectangle([50, 250, 210, 320], 20, fill=(250, 250, 250), outline=(210, 210, 205), width=2)
    return img


def badge(photo: np.ndarray) -> Image.Image:
    b = Image.new("RGB", (96, 128), (250, 250, 250))
    d = ImageDraw.Draw(b)
    d.rectangle([0, 0, 95, 22], fill=NHS_BLUE)
    d.text((6, 3), "NHS", font=font(16), fill=(255, 255, 255))
    b.paste(Image.fromarray(cv2.resize(photo, (36, 44), interpolation=cv2.INTER_AREA)), (6, 28))
    d.text((6, 78), "Dr Jane", font=font(14), fill=(10, 10, 10))
    d.text((6, 94), "Example", font=font(14), fill=(10, 10, 10))
    d.text((6, 110), "Staff Nurse", font=font(12), fill=(40, 40, 40))
    d.rectangle([0, 0, 95, 127], outline=(120, 120, 120))
    return b


class Scene:
    def __init__(self) -> None:
        self.width = W + PAN
        self.bg = np.asarray(background(self.width))
        self.patient = astronaut_head(190)
        self.staff_face = lfw_face(3, 84)
        self.bystander_face = lfw_face(40, 44, tint=(0.95, 0.8, 0.66))
        self.badge = np.asarray(badge(lfw_face(12, 60)))
        self.patient_mask = oval_mask(*self.patient.shape[:2]) | self._shoulders(self.patient.shape[:2])

    @staticmethod
    def _shoulders(shape: tuple[int, int]) -> np.ndarray:
        h, w = shape
        m = np.zeros((h, w), bool)
        m[int(h * 0.62):, :] = True
        return m

    def frame(self, i: int) -> np.ndarray:
        c = self.bg.copy()
        # patient propped up in bed
        paste(c, self.patient, 90, 150, self.patient_mask)
        # bystander far back by the door, walking slowly
        bx = 262 + i // 3
        cv2.rectangle(c, (bx - 6, 232), (bx + 50, 330), (120, 120, 128), -1)
        paste(c, self.bystander_face, bx, 188, oval_mask(44, 44))
        # member of staff standing at the bedside, swaying a little
        sx = 470 + int(12 * np.sin(i / 14))
        sy = 150
        body = np.array([[sx - 40, sy + 100], [sx + 124, sy + 100], [sx + 150, H], [sx - 66, H]], np.int32)
        cv2.fillPoly(c, [body], NHS_BLUE)
        cv2.rectangle(c, (sx + 30, sy + 84), (sx + 54, sy + 104), (214, 178, 150), -1)  # neck
        paste(c, self.staff_face, sx, sy, oval_mask(84, 84))
        cv2.line(c, (sx + 14, sy + 104), (sx + 40, sy + 170), (30, 30, 30), 2)  # lanyard
        cv2.line(c, (sx + 70, sy + 104), (sx + 44, sy + 170), (30, 30, 30), 2)
        paste(c, self.badge, sx - 6, sy + 170)
        x0 = int(round(PAN * i / (FPS * SECONDS - 1)))
        return np.ascontiguousarray(c[:, x0:x0 + W])


def audio(seconds: float) -> np.ndarray:
    """A soft, speech-like hum: a few harmonics with a slow syllable-rate envelope (mono, float32)."""
    t = np.arange(int(AUDIO_RATE * seconds)) / AUDIO_RATE
    pitch = 140 + 25 * np.sin(2 * np.pi * 0.7 * t)
    phase = 2 * np.pi * np.cumsum(pitch) / AUDIO_RATE
    voice = sum(np.sin(k * phase) / k for k in range(1, 6))
    envelope = 0.5 * (1 + np.sin(2 * np.pi * 3.1 * t)) ** 2 / 4
    fade = np.minimum(1, np.minimum(t, seconds - t) / 0.2)
    return (0.2 * voice * envelope * fade).astype(np.float32)


def write_video(path: Path, scene: Scene) -> None:
    n = FPS * SECONDS
    with av.open(str(path), "w", format="mp4", options={"movflags": "+faststart"}) as out:
        vs = out.add_stream("libx264", rate=FPS, options={"crf": "26", "preset": "slow"})
        vs.width, vs.height, vs.pix_fmt = W, H, "yuv420p"
        ast = out.add_stream("aac", rate=AUDIO_RATE, layout="mono")
        for i in range(n):
            vf = av.VideoFrame.from_ndarray(scene.frame(i), format="rgb24")
            vf.pts, vf.time_base = i, fractions.Fraction(1, FPS)
            out.mux(vs.encode(vf))
        out.mux(vs.encode(None))
        samples = audio(SECONDS)
        step = 1024
        for k in range(0, len(samples), step):
            chunk = samples[k:k + step]
            af = av.AudioFrame.from_ndarray(chunk[None, :], format="fltp", layout="mono")
            af.sample_rate, af.pts, af.time_base = AUDIO_RATE, k, fractions.Fraction(1, AUDIO_RATE)
            out.mux(ast.encode(af))
        out.mux(ast.encode(None))


def write_still(path: Path, scene: Scene) -> None:
    img = Image.fromarray(scene.frame(50))
    exif = Image.Exif()
    exif[0x0112] = 1  # orientation: upright
    exif[0x010F], exif[0x0110] = "ExamplePhone", "Demo 1"  # make, model
    exif[0x8825] = {1: "N", 2: (51.0, 30.0, 0.0), 3: "W", 4: (0.0, 7.0, 12.0)}  # GPS: 51.5 N, 0.12 W
    img.save(path, quality=90, exif=exif.tobytes())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent)
    args = ap.parse_args()
    if not nhs_number_valid(NHS_NUMBER):
        raise SystemExit(f"the demo NHS number {NHS_NUMBER} fails the Modulus-11 check")
    args.out.mkdir(parents=True, exist_ok=True)
    scene = Scene()
    write_video(args.out / "demo.mp4", scene)
    write_still(args.out / "demo.jpg", scene)


if __name__ == "__main__":
    main()
