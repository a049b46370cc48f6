"""Audio streams of an output: copied bit-exact (default), re-encoded to AAC, or dropped; where spoken personal data
was found (``speech`` tracks of the plan), re-encoded with those stretches replaced by a tone or by silence."""

from __future__ import annotations

import fractions
import logging
import math
from typing import Any, Sequence

import av
import numpy as np

from ..errors import OutputError
from .probe import AV_ERRORS

log = logging.getLogger(__name__)

AUDIO_MODES = ("keep", "reencode", "strip")
SPEECH_STYLES = ("bleep", "mute")
BLEEP_HZ = 1000.0
BLEEP_LEVEL = 0.25  # -12 dBFS: plainly a bleep, not painful
Spans = Sequence[tuple[float, float]]
AAC_BITRATE_PER_CHANNEL = 96_000
_LAYOUTS = {1: "mono", 2: "stereo", 3: "3.0", 4: "4.0", 5: "5.0(side)", 6: "5.1", 7: "6.1", 8: "7.1"}
_AAC_RATES = (96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350)


def _ticks(offset: fractions.Fraction, time_base: Any) -> int:
    return round(offset / fractions.Fraction(time_base.numerator, time_base.denominator)) if offset else 0


class _Copy:
    def __init__(self, out: Any, src: Any, dst_name: str, offset: fractions.Fraction):
        try:
            self.stream = out.add_stream_from_template(src)
        except ValueError:
            codec = src.codec_context.name
            raise OutputError(
                f"the input's {codec} audio cannot be copied into an MP4 ({dst_name}); "
                "use --audio reencode (AAC) or --audio strip"
            ) from None
        self.stream.metadata.clear()
        self.out = out
        self.shift = _ticks(offset, src.time_base)

    def packet(self, packet: Any) -> None:
        if not packet.size:
            return  # end-of-stream marker from the demuxer
        if self.shift:
            if packet.pts is not None:
                packet.pts -= self.shift
            if packet.dts is not None:
                packet.dts -= self.shift
        packet.stream = self.stream
        self.out.mux(packet)

    def flush(self) -> None:
        return None


class _Reencode:
    """Decode, resample to an AAC rate and layout, and encode; samples inside ``spans`` (seconds from the stream's
    first decoded sample, as :func:`redact.speech.load_audio` counts them) become a tone (``bleep``) or silence."""

    def __init__(self, out: Any, src: Any, offset: fractions.Fraction, spans: Spans = (), style: str = "bleep"):
        cc = src.codec_context
        rate = int(cc.sample_rate or 48000)
        self.rate = rate if rate in _AAC_RATES else 48000
        channels = int(cc.channels or 2)
        # The encoder wants a standard layout; inputs may carry "N channels" (unspecified order).
        self.layout = _LAYOUTS[min(max(channels, 1), 8)]
        self.stream = out.add_stream("aac", rate=self.rate)
        self.stream.layout = self.layout
        self.stream.bit_rate = AAC_BITRATE_PER_CHANNEL * min(channels, 6)
        self.out = out
        self.tb = fractions.Fraction(1, self.rate)
        self.shift = _ticks(offset, self.tb)
        self._resampler: Any = None
        self.spans = [(float(a), float(b)) for a, b in spans if b > a]
        self.style = style
        self._origin: fractions.Fraction | None = None  # time of the stream's first decoded sample
        self._next = 0.0  # seconds since then of the next sample, for frames without a timestamp

    def _encode(self, frames: list[Any]) -> None:
        for f in frames:
            for p in self.stream.encode(self._cover(f)):
                self.out.mux(p)

    def _cover(self, frame: Any) -> Any:
        """``frame`` with the samples inside ``spans`` replaced (a new frame; the same one when none are)."""
        if not self.spans:
            return frame
        if frame.pts is not None:
            t0 = float((frame.pts + self.shift) * self.tb - (self._origin or 0))
        else:
            t0 = self._next
        n = frame.samples
        self._next = t0 + n / self.rate
        times = t0 + np.arange(n) / self.rate
        hit = np.zeros(n, bool)
        for a, b in self.spans:
            hit |= (times >= a) & (times < b)
        if not hit.any():
            return frame
        samples = np.array(frame.to_ndarray(), np.float32)  # planar float: channels x n
        if self.style == "bleep":
            samples[:, hit] = BLEEP_LEVEL * np.sin(2 * math.pi * BLEEP_HZ * times[hit]).astype(np.float32)
        else:
            samples[:, hit] = 0.0
        new = av.AudioFrame.from_ndarray(samples, format="fltp", layout=self.layout)
        new.sample_rate, new.pts, new.time_base = self.rate, frame.pts, frame.time_base
        return new

    def packet(self, packet: Any) -> None:
        try:
            decoded = packet.decode()
        except AV_ERRORS as e:
            log.warning("skipping an undecodable audio packet: %s", e)
            return
        for f in decoded:
            if self._origin is None:
                self._origin = f.pts * f.time_base if f.pts is not None and f.time_base else fractions.Fraction(0)
            if self._resampler is None:
                self._resampler = av.AudioResampler(
                    format="fltp", layout=self.layout, rate=self.rate, frame_size=self.stream.codec_context.frame_size
                )
            if f.pts is not None and f.time_base:
                f.pts = round(f.pts * f.time_base / self.tb) - self.shift
                f.time_base = self.tb
            self._encode(self._resampler.resample(f))

    def flush(self) -> None:
        if self._resampler is not None:
            self._encode(self._resampler.resample(None))
        for p in self.stream.encode(None):
            self.out.mux(p)


class AudioOut:
    """Routes the input's audio packets to the output according to ``mode``."""

    def __init__(
        self, out: Any, in_streams: tuple[Any, ...], mode: str, dst_name: str, offset: fractions.Fraction = fractions.Fraction(0),
        speech: Spans = (), speech_style: str = "bleep",
    ):
        """``offset`` (seconds) is subtracted from every timestamp, as it is from the video's. ``speech``: stretches
        (seconds from each stream's first sample) to cover with ``speech_style``; any stream they apply to is
        re-encoded, every audio stream alike (only the first was analysed, the others may carry the same words)."""
        if mode not in AUDIO_MODES:
            raise ValueError(f"audio must be one of {', '.join(AUDIO_MODES)}, got {mode!r}")
        if speech_style not in SPEECH_STYLES:
            raise ValueError(f"speech_style must be one of {', '.join(SPEECH_STYLES)}, got {speech_style!r}")
        speech = [(a, b) for a, b in speech if b > a]
        self.in_streams = tuple(in_streams) if mode != "strip" else ()
        self._routes: dict[int, Any] = {}
        for s in self.in_streams:
            if s.codec_context is None:
                raise OutputError(
                    f"the input's audio stream #{s.index} uses an unknown codec (damaged header?) and cannot be "
                    f"{'copied' if mode == 'keep' else 're-encoded'} into {dst_name}; use --audio strip"
                )
            if mode == "keep" and not speech:
                self._routes[s.index] = _Copy(out, s, dst_name, offset)
            else:
                self._routes[s.index] = _Reencode(out, s, offset, speech, speech_style)
        if not in_streams:
            self.result = "none"
        elif speech and mode != "strip":
            self.result = f"reencoded, speech {'bleeped' if speech_style == 'bleep' else 'muted'}"
        else:
            self.result = {"keep": "copied", "reencode": "reencoded", "strip": "stripped"}[mode]

    def packet(self, packet: Any) -> None:
        route = self._routes.get(packet.stream.index)
        if route is not None:
            route.packet(packet)

    def flush(self) -> None:
        for route in self._routes.values():
            route.flush()
