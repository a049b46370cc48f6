"""Front-ends tried before the recogniser in issue 25 (session 5) and NOT used by redact: benchmarks/speech.py
--frontend applies one to the audio the analyser gets (spans are measured against the original's segments, as
the bleeps would be applied to the original audio). docs/benchmarks.md "Spoken personal data" has the figures:
neither raised what tiny.en recognises in the benchmark's noise beyond the spread of replicates.

A ward's audio is speech over monitor beeps, pump alarms and mains hum. Beeps and alarms are tonal: a few narrow
spectral peaks, each steady in frequency for tens of milliseconds, which speech's harmonics are not (they come as a
comb and glide with the voice's pitch). :func:`remove_tones` finds such peaks in a short-time Fourier transform
and replaces them with the level of the spectrum around them. :func:`reduce_noise` is a mild stationary-noise
reduction (power spectral subtraction against a per-frequency noise floor, the gain never below
:data:`NOISE_FLOOR_GAIN`). numpy only.
"""

from __future__ import annotations

import numpy as np

N_FFT = 1024
"""Window of the STFT (64 ms at 16 kHz: 15.6 Hz per bin, narrow enough to tell a tone from speech's harmonics)."""
HOP = 256
TONE_DB = 15.0
"""A bin is a peak when it is this many dB above the median of the bins around it (:data:`TONE_WIDTH` each side)."""
TONE_WIDTH = 12
TONE_FRAMES = 5
"""A peak is a tone when it stays within one bin for this many hops (80 ms) or more."""
TONE_ALONE_DB = 6.0
TONE_ALONE_WIDTH = 16
"""A tone stands alone: this many dB above every bin from :data:`TONE_LOBE` + 1 to this many bins away (250 Hz).
Speech's harmonics come as a comb, each about as strong as the next one, F0 (80-250 Hz) away."""
TONE_DRIFT_HZ = 2.0
"""A tone's frequency moves less than this from one hop to the next (measured from the phase advance); a voice's
harmonics glide with its pitch."""
TONE_EDGE_DB = 6.0
TONE_EDGE_FRAMES = 4
"""From a steady tone, up to this many frames before and after it are taken too where the bin is this many dB
above its neighbours' median (the frames the window covers only in part: the onset and the fade)."""
TONE_LOBE = 2
"""Bins each side of a tone's peak replaced as well (the window's main lobe)."""
TONE_MIN_HZ = 300.0
"""No tone is looked for below this: a synthetic voice's fundamental (espeak-ng's pitch is very steady) passed the
other tests there. Mains hum (50/60 Hz and its first harmonics) is therefore left in."""


def _frames(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """``(spectrum frames x bins, window, padded length)`` of ``x``."""
    win = np.hanning(N_FFT + 1)[:-1].astype(np.float64)
    pad = N_FFT // 2
    n = x.size
    total = n + 2 * pad
    total += (-(total - N_FFT)) % HOP
    y = np.zeros(total, np.float64)
    y[pad:pad + n] = x
    count = 1 + (total - N_FFT) // HOP
    idx = np.arange(N_FFT)[None, :] + HOP * np.arange(count)[:, None]
    return np.fft.rfft(y[idx] * win, axis=1), win, total


def _overlap_add(spec: np.ndarray, win: np.ndarray, total: int, n: int) -> np.ndarray:
    frames = np.fft.irfft(spec, n=N_FFT, axis=1) * win
    out = np.zeros(total, np.float64)
    norm = np.zeros(total, np.float64)
    w2 = win ** 2
    for k in range(frames.shape[0]):
        out[k * HOP:k * HOP + N_FFT] += frames[k]
        norm[k * HOP:k * HOP + N_FFT] += w2
    pad = N_FFT // 2
    return (out[pad:pad + n] / np.maximum(norm[pad:pad + n], 1e-9)).astype(np.float32)


def _local_median(mag: np.ndarray) -> np.ndarray:
    """Per frame, the median of each bin's neighbours (:data:`TONE_WIDTH` each side, the bin itself and the lobe
    excluded)."""
    f = mag.shape[1]
    padded = np.pad(mag, ((0, 0), (TONE_WIDTH, TONE_WIDTH)), mode="reflect")
    offs = [o for o in range(-TONE_WIDTH, TONE_WIDTH + 1) if abs(o) > TONE_LOBE]
    stack = np.stack([padded[:, TONE_WIDTH + o:TONE_WIDTH + o + f] for o in offs], axis=0)
    return np.median(stack, axis=0)


def _neighbour_max(mag: np.ndarray) -> np.ndarray:
    """Per frame, the largest of the bins :data:`TONE_LOBE` + 1 to :data:`TONE_ALONE_WIDTH` away from each bin."""
    f = mag.shape[1]
    w = TONE_ALONE_WIDTH
    padded = np.pad(mag, ((0, 0), (w, w)))
    out = np.zeros_like(mag)
    for o in range(TONE_LOBE + 1, w + 1):
        np.maximum(out, padded[:, w + o:w + o + f], out=out)
        np.maximum(out, padded[:, w - o:w - o + f], out=out)
    return out


def _frequency_steps(spec: np.ndarray, rate: int) -> np.ndarray:
    """Per STFT cell, how far (Hz) the bin's instantaneous frequency (from the phase advance between frames)
    moved from the step before; ``inf`` where it cannot be told (the first two frames)."""
    bins = np.arange(spec.shape[1])
    dphi = np.angle(spec[1:] * np.conj(spec[:-1])) - 2 * np.pi * bins * HOP / N_FFT
    dphi = (dphi + np.pi) % (2 * np.pi) - np.pi
    inst = (bins + dphi * N_FFT / (2 * np.pi * HOP)) * rate / N_FFT
    out = np.full(spec.shape, np.inf)
    out[2:] = np.abs(inst[1:] - inst[:-1])
    return out


def tone_mask(spec: np.ndarray, rate: int) -> np.ndarray:
    """Bool (frames x bins): the STFT cells that hold a steady narrow tone (see the module's text)."""
    mag = np.abs(spec)
    floor = _local_median(mag) + 1e-12
    ratio_db = 20 * np.log10(mag / floor + 1e-12)
    left = np.pad(mag[:, :-1], ((0, 0), (1, 0)))
    right = np.pad(mag[:, 1:], ((0, 0), (0, 1)))
    peak = (ratio_db > TONE_DB) & (mag >= left) & (mag >= right)
    peak &= mag > _neighbour_max(mag) * 10 ** (TONE_ALONE_DB / 20)
    peak[:, : int(np.ceil(TONE_MIN_HZ * N_FFT / rate))] = False
    # a peak that persists: present in this frame and, within one bin, in each of the neighbouring frames of a run
    still = peak & (_frequency_steps(spec, rate) < TONE_DRIFT_HZ)
    near = still | np.pad(still[:, 1:], ((0, 0), (0, 1))) | np.pad(still[:, :-1], ((0, 0), (1, 0)))
    fwd = np.zeros(peak.shape, np.int32)  # length of the run of "near" frames ending at each frame
    bwd = np.zeros(peak.shape, np.int32)  # and starting at it
    for k in range(peak.shape[0]):
        fwd[k] = np.where(near[k], (fwd[k - 1] if k else 0) + 1, 0)
    for k in range(peak.shape[0] - 1, -1, -1):
        bwd[k] = np.where(near[k], (bwd[k + 1] if k + 1 < peak.shape[0] else 0) + 1, 0)
    steady = fwd + bwd - 1 >= TONE_FRAMES
    mask = steady & peak
    # a tone's onset and offset (frames the window only partly covers) are not steady: follow it outwards while it
    # stands out
    edge = ratio_db > TONE_EDGE_DB
    for _ in range(TONE_EDGE_FRAMES):
        grown = _spread(mask, 1)
        later = np.zeros_like(mask)
        later[1:] = grown[:-1]
        earlier = np.zeros_like(mask)
        earlier[:-1] = grown[1:]
        new = (later | earlier) & edge & ~mask
        if not new.any():
            break
        mask |= new
    return _spread(mask, TONE_LOBE)


def _spread(mask: np.ndarray, width: int) -> np.ndarray:
    """``mask`` widened by ``width`` bins each side."""
    out = mask.copy()
    for o in range(1, width + 1):
        out[:, o:] |= mask[:, :-o]
        out[:, :-o] |= mask[:, o:]
    return out


def remove_tones(audio: np.ndarray, rate: int = 16000) -> np.ndarray:
    """``audio`` (mono float32) with its steady narrow tones replaced by the level of the spectrum around them;
    ``audio`` itself (the same object) when it has none."""
    if audio.size < N_FFT:
        return audio
    spec, win, total = _frames(audio)
    mag = np.abs(spec)
    mask = tone_mask(spec, rate)
    if not mask.any():
        return audio
    floor = _local_median(mag)
    scale = np.where(mask, np.minimum(1.0, floor / np.maximum(mag, 1e-12)), 1.0)
    return _overlap_add(spec * scale, win, total, audio.size)


NOISE_PERCENTILE = 20.0
NOISE_OVER = 1.0
"""Times the noise floor (the :data:`NOISE_PERCENTILE` th percentile of each bin's power over the audio: about
0.22 of a stationary noise's mean power) subtracted from each bin's power. 1.0 is mild; 4.5 takes off about the
noise's mean power."""
NOISE_FLOOR_GAIN = 0.3


def reduce_noise(audio: np.ndarray, rate: int = 16000, over: float | None = None) -> np.ndarray:
    """A mild spectral-subtraction gain: each bin's power less :data:`NOISE_OVER` times the noise floor (its
    :data:`NOISE_PERCENTILE` th percentile over the audio), as a gain no lower than :data:`NOISE_FLOOR_GAIN`."""
    if audio.size < N_FFT:
        return audio
    spec, win, total = _frames(audio)
    power = np.abs(spec) ** 2
    noise = np.percentile(power, NOISE_PERCENTILE, axis=0)[None, :]
    over = NOISE_OVER if over is None else over
    gain = np.sqrt(np.maximum(1.0 - over * noise / np.maximum(power, 1e-20), NOISE_FLOOR_GAIN ** 2))
    return _overlap_add(spec * gain, win, total, audio.size)


HIGH_PASS_HZ = 120.0


def high_pass(audio: np.ndarray, rate: int = 16000) -> np.ndarray:
    """``audio`` through a 4th-order Butterworth-shaped high-pass at :data:`HIGH_PASS_HZ` (applied in the
    frequency domain, zero phase): brown and pink noise put most of their power below it, speech little."""
    spec = np.fft.rfft(audio)
    f = np.fft.rfftfreq(audio.size, 1 / rate)
    gain = 1 / np.sqrt(1 + (HIGH_PASS_HZ / np.maximum(f, 1e-3)) ** 8)
    return np.fft.irfft(spec * gain, audio.size).astype(np.float32)


FRONTENDS = {
    "tones": remove_tones,
    "denoise": reduce_noise,
    "denoise-strong": lambda audio, rate=16000: reduce_noise(audio, rate, over=4.5),
    "highpass": high_pass,
}
"""What benchmarks/speech.py --frontend accepts."""
