"""What a file holds: duration, resolution and codec of a video, or what it is instead.

People tell takes apart by their length and resolution, and a text file picked by mistake
must be flagged before it is sent. ffprobe (FFmpeg) is used when it is installed - it knows
every container and codec; otherwise hachoir, a maintained pure-Python parser of MP4/MOV,
MKV/WebM, AVI, FLV, ASF/WMV, MPEG and more, so the two README commands still suffice.
Probing reads a file's headers only, but may take tens of milliseconds: call it off the UI
thread. :class:`MediaProbe` caches answers per (path, size, mtime).

Headless: the CLI may use this too; nothing here imports Textual.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

Kind = Literal["video", "not-video", "unknown"]

FFPROBE_TIMEOUT = 15.0  # seconds; a file on a stalled network mount must not hang a worker
SNIFF_BYTES = 4096

# ffprobe's names for formats that hold a single picture, not a video.
_IMAGE_FORMATS = ("image2", "png_pipe", "jpeg_pipe", "webp_pipe", "gif", "bmp_pipe", "tiff_pipe")


@dataclass(frozen=True, slots=True)
class MediaInfo:
    kind: Kind
    duration: float | None = None  # seconds
    width: int = 0
    height: int = 0
    codec: str = ""
    detail: str = ""  # for a file that is not a video: what it is ("text", "audio only")

    @property
    def is_video(self) -> bool:
        return self.kind == "video"

    def summary(self) -> str:
        """``1m05s 1920x1080 h264``; what it is instead for anything else."""
        if self.kind == "not-video":
            return f"not a video ({self.detail})" if self.detail else "not a video"
        if self.kind == "unknown":
            return self.detail or "not recognised"
        parts = []
        if self.duration is not None:
            parts.append(_short_duration(self.duration))
        if self.width and self.height:
            parts.append(f"{self.width}x{self.height}")
        if self.codec:
            parts.append(self.codec)
        return " ".join(parts) or "video"


def _short_duration(seconds: float) -> str:
    total = int(seconds + 0.5)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def probe(path: Path) -> MediaInfo:
    """What ``path`` holds; blocking (run it in a thread). Never raises for a bad file."""
    try:
        head = path.open("rb").read(SNIFF_BYTES)
    except OSError as exc:
        return MediaInfo("unknown", detail=f"unreadable: {exc.strerror or exc}")
    if not head:
        return MediaInfo("not-video", detail="empty")
    if _looks_like_text(head):
        return MediaInfo("not-video", detail="text")
    if shutil.which("ffprobe"):
        return _ffprobe(path)
    return _hachoir(path)


def _looks_like_text(head: bytes) -> bool:
    if b"\0" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not just a character cut at the sniff's end
            return False
    return True


def _ffprobe(path: Path) -> MediaInfo:
    command = [
        "ffprobe", "-v", "error", "-print_format", "json", "-show_format", "-show_streams",
        str(path),
    ]  # fmt: skip
    try:
        result = subprocess.run(  # noqa: S603 - a fixed program, the path as one argument
            command, capture_output=True, timeout=FFPROBE_TIMEOUT, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return MediaInfo("unknown", detail=f"ffprobe failed: {exc}")
    if result.returncode != 0:
        return MediaInfo("not-video", detail="not a media file")
    try:
        data = json.loads(result.stdout or b"{}")
    except ValueError:
        return MediaInfo("unknown", detail="ffprobe gave no answer")
    return _from_ffprobe(data)


def _from_ffprobe(data: dict[str, Any]) -> MediaInfo:
    streams = data.get("streams") or []
    fmt = data.get("format") or {}
    videos = [
        s
        for s in streams
        if s.get("codec_type") == "video" and not (s.get("disposition") or {}).get("attached_pic")
    ]
    if not videos:
        audio = any(s.get("codec_type") == "audio" for s in streams)
        return MediaInfo("not-video", detail="audio only" if audio else "no video stream")
    if str(fmt.get("format_name", "")).startswith(_IMAGE_FORMATS):
        return MediaInfo("not-video", detail="image")
    video = videos[0]
    duration = _number(fmt.get("duration")) or _number(video.get("duration"))
    return MediaInfo(
        "video",
        duration=duration,
        width=int(video.get("width") or 0),
        height=int(video.get("height") or 0),
        codec=str(video.get("codec_name") or ""),
    )


def _number(value: object) -> float | None:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


# hachoir's MIME types of containers that hold video (and of those that never do).
_AUDIO_MIME_PREFIX = "audio/"
_IMAGE_MIME_PREFIX = "image/"
# MP4 sample-entry and Matroska codec ids, as ffprobe names them.
_CODEC_NAMES = {
    "avc1": "h264", "avc3": "h264", "hvc1": "hevc", "hev1": "hevc", "av01": "av1",
    "vp09": "vp9", "vp08": "vp8", "mp4v": "mpeg4", "s263": "h263", "jpeg": "mjpeg",
    "apcn": "prores", "apch": "prores", "apcs": "prores", "apco": "prores", "ap4h": "prores",
    "V_MPEG4/ISO/AVC": "h264", "V_MPEGH/ISO/HEVC": "hevc", "V_AV1": "av1", "V_VP9": "vp9",
    "V_VP8": "vp8", "V_MPEG4/ISO/ASP": "mpeg4", "V_MPEG2": "mpeg2video",
}  # fmt: skip


def _hachoir(path: Path) -> MediaInfo:
    from hachoir.core import config as hachoir_config
    from hachoir.metadata import extractMetadata
    from hachoir.parser import createParser

    hachoir_config.quiet = True  # it would print warnings about odd files to stderr
    try:
        parser = createParser(str(path))
    except Exception as exc:  # a parser bug on an odd file: say so, do not crash a worker
        return MediaInfo("unknown", detail=f"not recognised ({type(exc).__name__})")
    if parser is None:
        return MediaInfo("unknown", detail="not recognised as a video")
    with parser:
        mime = str(getattr(parser, "mime_type", "") or "")
        if mime.startswith(_AUDIO_MIME_PREFIX):
            return MediaInfo("not-video", detail="audio only")
        if mime.startswith(_IMAGE_MIME_PREFIX):
            return MediaInfo("not-video", detail="image")
        if not mime.startswith("video/") and mime not in {"application/x-shockwave-flash"}:
            return MediaInfo("not-video", detail=mime or "not a video")
        try:
            metadata = extractMetadata(parser)
            codec = _hachoir_codec(parser)
        except Exception as exc:  # a truncated file, a parser bug
            return MediaInfo("unknown", detail=f"unreadable headers ({type(exc).__name__})")
        duration = width = height = None
        if metadata is not None:
            duration = metadata.get("duration", None)
            width = metadata.get("width", None)
            height = metadata.get("height", None)
            codec = codec or str(metadata.get("compression", "") or "")
        return MediaInfo(
            "video",
            duration=duration.total_seconds() if duration is not None else None,
            width=int(width or 0),
            height=int(height or 0),
            codec=_CODEC_NAMES.get(codec, codec.lower()),
        )


def _hachoir_codec(parser: Any) -> str:
    """The first video track's codec id: an MP4/MOV sample entry's format, or Matroska's
    CodecID (hachoir's metadata gives neither)."""
    for field in _fields(parser, depth=20):
        name = field.name
        if name == "format" and "sample_entry" in field.path:
            raw = field.value
            value = (raw.decode("latin-1") if isinstance(raw, bytes) else str(raw)).strip()
            if value in _CODEC_NAMES:
                return value
        elif name == "CodecID" or field.path.endswith("/CodecID/string"):
            value = str(field.value)
            if value.startswith("V_"):
                return value
    return ""


def _fields(node: Any, depth: int) -> Iterator[Any]:
    for field in node:
        yield field
        if field.is_field_set and depth > 0 and not _is_payload(field):
            yield from _fields(field, depth - 1)


def _is_payload(field: Any) -> bool:
    """The big parts that hold the frames: never walked (they are most of the file)."""
    try:
        tag = field["tag"].value if "tag" in field else ""
    except Exception:
        tag = ""
    return tag in {"mdat", "free", "skip", "movi"} or field.name.startswith("Cluster")


class MediaProbe:
    """Answers cached per (path, size, mtime): a file changed in place is probed again."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cache: dict[tuple[str, int, int], MediaInfo] = {}

    @staticmethod
    def _key(path: Path) -> tuple[str, int, int] | None:
        try:
            st = path.stat()
        except OSError:
            return None
        return (str(path), st.st_size, st.st_mtime_ns)

    def cached(self, path: Path) -> MediaInfo | None:
        key = self._key(path)
        with self._lock:
            return self._cache.get(key) if key else None

    def probe(self, path: Path) -> MediaInfo:
        """The cached answer, or a new probe (blocking: call it from a worker thread)."""
        key = self._key(path)
        if key is None:
            return MediaInfo("unknown", detail="cannot read the file")
        with self._lock:
            known = self._cache.get(key)
        if known is not None:
            return known
        info = probe(path)
        with self._lock:
            self._cache[key] = info
        return info
