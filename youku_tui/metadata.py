"""Video metadata: the ``uploads/create`` fields, their rules, and batch title templates.

The rules are the field table of the Youku open API contract (``youku-open-api.md``, kept
outside this repository; the sandbox enforces the same ones in ``sandbox/youku_api.py``). They
are checked before any network call; each broken rule is reported as a :class:`FieldProblem`
naming the field.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import date
from enum import StrEnum
from pathlib import Path

from youku_tui.errors import FieldProblem, MetadataError
from youku_tui.textsafe import clean_for_youku, safe_text, unsafe_characters

TITLE_MAX = 60
TAGS_MAX = 10
TAG_MIN_LEN = 2
TAG_MAX_LEN = 12
DESCRIPTION_MAX = 2000
DESCRIPTION_WARN = 200
PASSWORD_MAX = 32
# No category: Youku applies its own default (the public clients send "Others", the
# document says "Other"; sending neither is the one choice that cannot be wrong).
DEFAULT_CATEGORY = ""

_PASSWORD_RE = re.compile(r"[A-Za-z0-9]+")
TITLE_FIELDS = ("stem", "name", "index", "date")


class PublicType(StrEnum):
    ALL = "all"
    FRIEND = "friend"
    PASSWORD = "password"


class CopyrightType(StrEnum):
    ORIGINAL = "original"
    REPRODUCED = "reproduced"


@dataclass(frozen=True, slots=True)
class VideoMetadata:
    """What Youku is told about one video (or, with a title template, about a batch)."""

    title: str
    tags: tuple[str, ...]
    description: str = ""
    category: str = DEFAULT_CATEGORY
    copyright_type: CopyrightType = CopyrightType.ORIGINAL
    public_type: PublicType = PublicType.ALL
    watch_password: str = field(default="", repr=False)  # a secret: never logged or saved
    thumbnail: str = ""
    deshake: bool = False
    isweb: bool = False

    def form_params(self) -> dict[str, str]:
        """The ``uploads/create`` parameters for this metadata (not the file fields)."""
        params = {
            "title": self.title,
            "tags": ",".join(self.tags),
            "copyright_type": str(self.copyright_type),
            "public_type": str(self.public_type),
            "deshake": "1" if self.deshake else "0",
            "isweb": "1" if self.isweb else "0",
        }
        if self.category:  # only when the user chose one
            params["category"] = self.category
        if self.description:
            params["description"] = self.description
        if self.thumbnail:
            params["thumbnail"] = self.thumbnail
        if self.public_type is PublicType.PASSWORD:
            params["watch_password"] = self.watch_password
        return params

    def to_record(self) -> dict[str, object]:
        """A TOML/JSON-safe record, without the watch password (it is a secret)."""
        record = asdict(self)
        record.pop("watch_password")
        record["tags"] = list(self.tags)
        record["copyright_type"] = str(self.copyright_type)
        record["public_type"] = str(self.public_type)
        return record

    @classmethod
    def from_record(cls, record: Mapping[str, object], watch_password: str = "") -> VideoMetadata:
        """Inverse of :meth:`to_record`; raises :class:`MetadataError` on a malformed record."""
        try:
            raw_tags = record.get("tags", ())
            if isinstance(raw_tags, str):
                tags = split_tags(raw_tags)
            elif isinstance(raw_tags, list | tuple):
                tags = tuple(str(t) for t in raw_tags)
            else:
                raise TypeError("tags must be a list of strings")
            return cls(
                title=str(record["title"]),
                tags=tags,
                description=str(record.get("description", "")),
                category=str(record.get("category", DEFAULT_CATEGORY)),
                copyright_type=CopyrightType(str(record.get("copyright_type", "original"))),
                public_type=PublicType(str(record.get("public_type", "all"))),
                watch_password=watch_password,
                thumbnail=str(record.get("thumbnail", "")),
                deshake=bool(record.get("deshake", False)),
                isweb=bool(record.get("isweb", False)),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise MetadataError([FieldProblem("metadata", f"malformed record: {exc}")]) from exc

    def with_title(self, title: str) -> VideoMetadata:
        return replace(self, title=title)


def split_tags(text: str) -> tuple[str, ...]:
    """Split user input on commas (ASCII or full-width), dropping blanks and duplicates."""
    seen: dict[str, None] = {}
    for raw in re.split(r"[,，]", text):
        tag = raw.strip()
        if tag:
            seen.setdefault(tag, None)
    return tuple(seen)


def _control_problem(
    field: str, text: str, what: str, multiline: bool = False
) -> list[FieldProblem]:
    """Control characters, bidi overrides or undecodable bytes: refused, never sent."""
    bad = unsafe_characters(text, multiline=multiline)
    if not bad:
        return []
    return [FieldProblem(field, f"{what} holds control characters ({', '.join(bad)}); remove them")]


def check_title(title: str) -> list[FieldProblem]:
    if controls := _control_problem("title", title, "the title"):
        return controls
    if not title.strip():
        return [FieldProblem("title", "is required (1 to 60 characters)")]
    if len(title) > TITLE_MAX:
        return [FieldProblem("title", f"is {len(title)} characters; at most {TITLE_MAX} allowed")]
    return []


def check_tags(tags: Iterable[str]) -> list[FieldProblem]:
    tags = list(tags)
    if not tags:
        return [FieldProblem("tags", "at least one tag is required")]
    problems = []
    if len(tags) > TAGS_MAX:
        problems.append(FieldProblem("tags", f"{len(tags)} tags given; at most {TAGS_MAX}"))
    for tag in tags:
        if controls := _control_problem("tags", tag, "a tag"):
            problems += controls
        elif "," in tag or "，" in tag:
            problems.append(FieldProblem("tags", f"tag {tag!r} must not contain a comma"))
        elif len(tag) < TAG_MIN_LEN:
            problems.append(
                FieldProblem("tags", f"tag {tag!r} is shorter than {TAG_MIN_LEN} characters")
            )
        elif len(tag) > TAG_MAX_LEN:
            problems.append(
                FieldProblem("tags", f"tag {tag!r} is longer than {TAG_MAX_LEN} characters")
            )
    return problems


def check_description(description: str) -> list[FieldProblem]:
    if controls := _control_problem("description", description, "the description", True):
        return controls
    if len(description) > DESCRIPTION_MAX:
        return [
            FieldProblem(
                "description",
                f"is {len(description)} characters; at most {DESCRIPTION_MAX} allowed",
            )
        ]
    if len(description) > DESCRIPTION_WARN:
        return [
            FieldProblem(
                "description",
                f"is over {DESCRIPTION_WARN} characters; Youku may refuse it (120010142)",
                severity="warning",
            )
        ]
    return []


def check_watch_password(public_type: PublicType, password: str) -> list[FieldProblem]:
    if public_type is not PublicType.PASSWORD:
        return []
    if not password:
        return [FieldProblem("watch_password", "is required when visibility is 'password'")]
    if len(password) > PASSWORD_MAX or not _PASSWORD_RE.fullmatch(password):
        return [
            FieldProblem(
                "watch_password", f"must be letters and digits only, at most {PASSWORD_MAX}"
            )
        ]
    return []


def check_category(category: str) -> list[FieldProblem]:
    if category and not re.fullmatch(r"[A-Za-z0-9_]+", category):
        return [FieldProblem("category", "must be a Youku category name such as 'Other'")]
    return []


def check_metadata(meta: VideoMetadata) -> list[FieldProblem]:
    """Every broken rule of ``meta`` (warnings included), in form order."""
    return [
        *check_title(meta.title),
        *check_tags(meta.tags),
        *check_description(meta.description),
        *check_category(meta.category),
        *check_watch_password(meta.public_type, meta.watch_password),
    ]


def validate_metadata(meta: VideoMetadata) -> list[FieldProblem]:
    """Raise :class:`MetadataError` if a rule is broken; return the warnings otherwise."""
    problems = check_metadata(meta)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise MetadataError(errors)
    return problems


def check_file_name(path: Path) -> list[FieldProblem]:
    """Youku wants ``file_name`` with an extension (sent as :func:`file_name_for_youku`)."""
    if not Path(file_name_for_youku(path)).suffix:
        return [FieldProblem("file", f"{safe_text(path.name)!r} has no extension; Youku needs one")]
    return []


def file_name_for_youku(path: Path) -> str:
    """The ``file_name`` sent to Youku: the name without controls or undecodable bytes."""
    return clean_for_youku(path.name)


class _StrictFormatter(string.Formatter):
    def get_value(self, key: int | str, args: object, kwargs: Mapping[str, object]) -> object:
        if isinstance(key, int) or key not in kwargs:
            raise MetadataError(
                [
                    FieldProblem(
                        "title",
                        f"unknown placeholder {{{key}}}; use "
                        + ", ".join(f"{{{n}}}" for n in TITLE_FIELDS),
                    )
                ]
            )
        return kwargs[key]


def render_title(template: str, path: Path, index: int, today: date | None = None) -> str:
    """Fill ``{stem}``, ``{name}``, ``{index}`` (1-based) and ``{date}`` for one file.

    Literal braces are written ``{{`` and ``}}``. An unknown placeholder raises
    :class:`MetadataError` naming the title field. The file's name is cleaned first (control
    characters dropped, undecodable bytes as U+FFFD): a name is not the user's typed text.
    """
    values = {
        "stem": clean_for_youku(path.stem),
        "name": clean_for_youku(path.name),
        "index": index,
        "date": (today or date.today()).isoformat(),
    }
    try:
        return _StrictFormatter().format(template, **values)
    except (ValueError, IndexError) as exc:
        raise MetadataError([FieldProblem("title", f"bad template: {exc}")]) from exc


def batch_metadata(
    template: VideoMetadata, paths: list[Path], today: date | None = None
) -> list[VideoMetadata]:
    """One metadata per file, the title rendered from the template; validated.

    Raises :class:`MetadataError` listing, per file, every rule a rendered title breaks.
    """
    result = []
    problems: list[FieldProblem] = []
    for index, path in enumerate(paths, start=1):
        title = render_title(template.title, path, index, today)
        meta = template.with_title(title)
        problems += [replace(p, path=path) for p in check_metadata(meta) if p.severity == "error"]
        problems += check_file_name(path)
        result.append(meta)
    if problems:
        raise MetadataError(problems)
    return result
