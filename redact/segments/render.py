"""Segment-parallel render: each worker decodes its segment from a keyframe, draws the plan's redactions and encodes
it with the serial writer's encoder settings (:class:`redact.io.writer.VideoOut`: same rate control, colour tags,
timestamps) into a temporary MP4 without audio; a fresh encoder starts each segment with an IDR frame. The segments'
packets are then joined here into the output without re-encoding, and the audio is routed once, as the serial writer
routes it (:class:`redact.io.audio.AudioOut`: copied bit-exact, re-encoded, bleeped or dropped).

Joining: presentation timestamps are the source's (each frame keeps its own: variable frame rates stay variable).
Decode timestamps are renumbered across the joins as x264 numbers them within one encode: the packet ``i``-th in
decode order gets the ``(i - d)``-th smallest presentation timestamp of the whole clip (``d``: the encoder's
reordering delay, from the first segment, whose packets are kept as they are), which keeps them increasing and
never after their frame's presentation. The segments must share one codec configuration (SPS/PPS), or the run
fails. Temporary segment files live in a private folder beside the output, removed whatever happens.
"""

from __future__ import annotations

import fractions
import logging
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, cast

import av

from ..drawing import frame_processors
from ..errors import InputError, OutputError
from ..io import probe, yuv
from ..io.atomic import atomic_path, check_unchanged
from ..io.audio import AudioOut
from ..io.image import check_processed
from ..io.model import WriteResult, YuvFrame
from ..io.probe import AV_ERRORS, one_line, open_container
from ..io.reader import open_decoder
from ..io.writer import VideoOut, check_write_args, rate_options, source_rate, start_offset
from ..options import Progress, RenderOptions
from ..planning import redacted_speech
from ..types import Plan
from .index import ClipIndex, SegmentMismatch, Span, index_clip, render_spans, seek_frames

log = logging.getLogger(__name__)


@dataclass
class RenderJob:
    path: str
    plan: Plan
    options: RenderOptions
    index: ClipIndex
    span: Span
    x264: dict[str, str]
    output: str


@dataclass
class SegmentRender:
    frames: int
    output: str
    pad: tuple[int, int]
    pixels: str


def render_segment(job: RenderJob, report: Callable[[int], None]) -> SegmentRender:
    """Worker side: frames ``job.span`` redacted and encoded into ``job.output`` (video only)."""
    info = probe(job.path)
    process, process_yuv = frame_processors(job.plan, job.options)
    planes = yuv.supports(info)
    n = 0
    with open_container(job.path) as container:
        decoder = open_decoder(container, info, allow_truncated=False, planes=planes)
        out = av.open(job.output, mode="w", format="mp4")
        try:
            video = VideoOut(out, info, decoder, job.x264, start_offset(container))
            out.start_encoding()
            for frame in seek_frames(container, decoder, job.index, job.span):
                if isinstance(frame, YuvFrame):
                    video.encode_planes(yuv.check_planes(process_yuv(frame), info.height, info.width), frame.pts,
                                        frame.time_base)
                else:
                    video.encode(check_processed(process(frame), info.height, info.width), frame.pts,
                                 frame.time_base)
                n += 1
                report(n)
            video.flush()
        finally:
            out.close()
    return SegmentRender(n, job.output, video.pad, "yuv420p" if planes else "rgb")


def parallel_render(path: str | Path, plan: Plan, output: str | Path, options: RenderOptions, jobs: int, *,
                    progress: Progress | None = None, expect_sha256: str | None = None) -> WriteResult | None:
    """Write ``output`` as :func:`redact.io.write_video` would, over ``jobs`` segments; ``None`` where the clip is
    not split (the caller renders serially). Atomic: an error or interrupt leaves neither output nor segments."""
    from .pool import can_spawn, run_segments

    src, dst = Path(path), Path(output)
    check_write_args(dst, options.crf, options.preset, options.audio)
    info = probe(src)
    index = index_clip(src, info) if can_spawn() else None
    if index is None:
        return None
    spans = render_spans(index, jobs)
    if not spans:
        return None
    if index.frames != plan.input.frames:
        raise InputError(f"the input decoded differently while writing: {index.frames} frames, the analysis saw "
                         f"{plan.input.frames}; nothing was written: {src}")
    with open_container(src) as container:
        stream_index = next(s.index for s in container.streams.video if s.codec_context is not None)
    source = source_rate(src, stream_index, info.fps) if options.crf is None else None
    x264 = rate_options(options.crf, options.preset, info, source)
    speech = redacted_speech(plan)
    t0 = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix=".redact-segments-", dir=dst.parent))
    try:
        jobs_ = [RenderJob(str(src), plan, options, index, s, x264, str(work / f"{k:03d}.mp4"))
                 for k, s in enumerate(spans)]
        log.info("rendering in %d segments: %s", len(spans), ", ".join(f"{s.own}-{s.stop - 1}" for s in spans))
        try:
            parts = run_segments(render_segment, jobs_,
                                 progress=(lambda n: progress("render", n, index.frames)) if progress else None)
        except SegmentMismatch as e:
            log.warning("a segment did not decode as indexed (%s): rendering serially", e)
            return None
        frames = sum(p.frames for p in parts)
        if frames != plan.input.frames:
            raise InputError(f"the input decoded differently while writing: {frames} frames, the analysis saw "
                             f"{plan.input.frames}; nothing was written: {src}")
        with atomic_path(dst) as tmp:
            audio, offset = _join(src, [Path(p.output) for p in parts], tmp, dst, options, speech)
            check_unchanged(src, expect_sha256)
        log.debug("rendered %d frames in %d segments in %.1f s", frames, len(parts), time.perf_counter() - t0)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    pad = parts[0].pad
    return WriteResult(frames=frames, truncated=False, error=None, audio=audio, width=info.width + pad[0],
                       height=info.height + pad[1], padded=pad, retimed=0, time_offset=float(offset),
                       pixels=parts[0].pixels)


def _join(src: Path, segments: list[Path], tmp: Path, dst: Path, options: Any,
          speech: list[Any]) -> tuple[str, fractions.Fraction]:
    """The segments' video packets and the source's audio into ``tmp`` (MP4, +faststart); returns how the audio
    went (``AudioOut.result``) and the source's start offset."""
    readers = [av.open(str(p)) for p in segments]
    try:
        streams = [r.streams.video[0] for r in readers]
        first = streams[0]
        for s in streams[1:]:
            if bytes(s.codec_context.extradata or b"") != bytes(first.codec_context.extradata or b"") \
                    or s.time_base != first.time_base:
                raise OutputError(f"the segments of {dst} were encoded with different codec settings; cannot join "
                                  "them (use -j 1)")
        tb = first.time_base
        all_pts = sorted(cast("int", p.pts) for r, s in zip(readers, streams) for p in r.demux(s) if p.size)
        for r in readers:
            r.seek(0)
        with open_container(src) as container:
            offset = start_offset(container)
            try:
                out = av.open(str(tmp), mode="w", format="mp4", options={"movflags": "+faststart"})
            except AV_ERRORS as e:
                raise OutputError(f"cannot write output {dst}: {one_line(e)}") from e
            try:
                vs = out.add_stream_from_template(first)
                vs.metadata.clear()
                vs.time_base = tb
                audio_out = AudioOut(out, container.streams.audio, options.audio, dst.name, offset, speech,
                                     options.speech)
                out.start_encoding()
                audio = container.demux(audio_out.in_streams) if audio_out.in_streams else iter(())
                pending = _next_audio(audio)
                for packet in _video_packets(readers, streams, all_pts, dst):
                    t = packet.dts * tb
                    while pending is not None and _seconds(pending) <= t:
                        audio_out.packet(pending)
                        pending = _next_audio(audio)
                    packet.stream = vs
                    out.mux(packet)
                while pending is not None:
                    audio_out.packet(pending)
                    pending = _next_audio(audio)
                audio_out.flush()
            except AV_ERRORS as e:
                out.close()
                raise OutputError(f"cannot write output {dst}: {one_line(e)}") from e
            except BaseException:
                try:
                    out.close()
                except AV_ERRORS:
                    pass
                raise
            out.close()
        return audio_out.result, offset
    finally:
        for r in readers:
            r.close()


def _next_audio(packets: Iterator[Any]) -> Any:
    try:
        return next(packets)
    except StopIteration:
        return None
    except AV_ERRORS as e:
        raise InputError(f"cannot read the input's audio: {one_line(e)}") from e


def _seconds(packet: Any) -> fractions.Fraction:
    ts = packet.dts if packet.dts is not None else packet.pts
    return ts * packet.time_base if ts is not None and packet.time_base else fractions.Fraction(0)


def _video_packets(readers: list[Any], streams: list[Any], all_pts: list[int], dst: Path) -> Iterator[Any]:
    """Every segment's video packets in order, decode timestamps renumbered across the joins (module notes)."""
    i = delay = 0
    last_dts: int | None = None
    for k, (r, s) in enumerate(zip(readers, streams)):
        for packet in r.demux(s):
            if not packet.size:
                continue
            if k == 0:
                delay += packet.dts < all_pts[0]  # x264's first packets are timed before the first frame
            else:
                packet.dts = all_pts[i - delay]
            if packet.dts > packet.pts or (last_dts is not None and packet.dts <= last_dts):
                raise OutputError(f"cannot join the segments of {dst}: decode timestamps would go back (use -j 1)")
            last_dts = packet.dts
            i += 1
            yield packet
