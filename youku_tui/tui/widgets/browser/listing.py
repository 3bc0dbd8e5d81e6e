"""Reading a folder (off the UI thread): entries with size and date, videos-only filter."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

VIDEO_EXTENSIONS = frozenset(
    {
        ".mp4", ".m4v", ".mov", ".mkv", ".avi", ".wmv", ".flv", ".f4v", ".webm", ".mpg",
        ".mpeg", ".mpe", ".ts", ".mts", ".m2ts", ".3gp", ".3g2", ".rm", ".rmvb", ".asf",
        ".vob", ".dv", ".ogv",
    }
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Entry:
    path: Path
    name: str
    is_dir: bool
    size: int
    mtime: float

    @property
    def is_video(self) -> bool:
        return not self.is_dir and Path(self.name).suffix.lower() in VIDEO_EXTENSIONS

    @property
    def hidden(self) -> bool:
        return self.name.startswith(".")


@dataclass(frozen=True, slots=True)
class Listing:
    folder: Path
    entries: tuple[Entry, ...]
    error: str = ""


def list_folder(folder: Path) -> Listing:
    """Every entry of ``folder`` (folders first, then by name); blocking, call from a thread."""
    entries: list[Entry] = []
    try:
        with os.scandir(folder) as it:
            for item in it:
                try:
                    is_dir = item.is_dir()
                    stat = item.stat()
                except OSError:
                    continue  # vanished or a broken link: not something to upload
                entries.append(
                    Entry(
                        path=Path(item.path),
                        name=item.name,
                        is_dir=is_dir,
                        size=0 if is_dir else stat.st_size,
                        mtime=stat.st_mtime,
                    )
                )
    except OSError as exc:
        return Listing(folder, (), f"cannot open {folder}: {exc.strerror}")
    entries.sort(key=lambda e: (not e.is_dir, e.name.lower()))
    return Listing(folder, tuple(entries))


def visible_entries(
    entries: tuple[Entry, ...], *, show_all: bool, show_hidden: bool
) -> list[Entry]:
    return [
        e for e in entries if (show_hidden or not e.hidden) and (e.is_dir or show_all or e.is_video)
    ]
