"""One metadata form for a whole batch: every ``uploads/create`` field, checked as you type.

The rules are :mod:`youku_tui.metadata`'s (``check_*``, ``split_tags``, ``render_title``,
``batch_metadata``); this screen only shows their verdicts next to the fields.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, cast

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Checkbox, Input, OptionList, Select, Static, TextArea
from textual.worker import get_current_worker

from youku_tui.config import MetadataDefaults
from youku_tui.errors import FieldProblem, LocalFileError, MetadataError
from youku_tui.metadata import (
    DESCRIPTION_MAX,
    CopyrightType,
    PublicType,
    VideoMetadata,
    batch_metadata,
    check_category,
    check_description,
    check_tags,
    check_title,
    check_watch_password,
    render_title,
    split_tags,
)
from youku_tui.textsafe import safe_markup
from youku_tui.tui.screens.confirm import PromptScreen
from youku_tui.tui.widgets.footer import PaletteFooter
from youku_tui.tui.widgets.form.fields import FieldRow, TitlePreview, tag_chips
from youku_tui.tui.widgets.inputs import SteadyInput, SteadyTextArea

if TYPE_CHECKING:
    from youku_tui.tui.app import YoukuApp

PREVIEW_LIMIT = 500  # titles rendered in the preview; the batch itself has no limit


@dataclass(slots=True)
class FormState:
    """What the form holds, kept by the app so leaving the form loses nothing."""

    title: str = "{stem}"
    tags: str = ""
    description: str = ""
    category: str = ""
    copyright_type: CopyrightType = CopyrightType.ORIGINAL
    public_type: PublicType = PublicType.ALL
    thumbnail: str = ""
    deshake: bool = False
    isweb: bool = False
    watch_password: str = field(default="", repr=False)
    overrides: dict[Path, str] = field(default_factory=dict)  # per-file titles
    tag_overrides: dict[Path, str] = field(default_factory=dict)  # per-file tags, as typed

    @classmethod
    def from_defaults(cls, defaults: MetadataDefaults) -> FormState:
        state = cls()
        state.load(defaults)
        return state

    def load(self, defaults: MetadataDefaults) -> None:
        self.title = defaults.title
        self.tags = ", ".join(defaults.tags)
        self.description = defaults.description
        self.category = defaults.category
        self.copyright_type = defaults.copyright_type
        self.public_type = defaults.public_type

    def as_defaults(self) -> MetadataDefaults:
        return MetadataDefaults(
            title=self.title,
            tags=split_tags(self.tags),
            description=self.description,
            category=self.category,
            copyright_type=self.copyright_type,
            public_type=self.public_type,
        )

    def template(self) -> VideoMetadata:
        public = self.public_type
        return VideoMetadata(
            title=self.title,
            tags=split_tags(self.tags),
            description=self.description,
            category=self.category,
            copyright_type=self.copyright_type,
            public_type=public,
            watch_password=self.watch_password if public is PublicType.PASSWORD else "",
            thumbnail=self.thumbnail,
            deshake=self.deshake,
            isweb=self.isweb,
        )


def plan_batch(
    state: FormState, paths: list[Path], today: date | None = None
) -> tuple[list[VideoMetadata], list[FieldProblem]]:
    """Metadata per file (template titles, then per-file overrides) and every broken rule."""
    template = state.template()
    problems: list[FieldProblem] = []
    try:
        metas = batch_metadata(template, paths, today)
    except MetadataError as exc:
        problems = list(exc.problems)
        metas = []
        for index, path in enumerate(paths, start=1):
            try:
                metas.append(template.with_title(render_title(template.title, path, index, today)))
            except MetadataError:
                metas.append(template.with_title(""))
    final: list[VideoMetadata] = []
    for path, rendered in zip(paths, metas, strict=True):
        own = state.overrides.get(path)
        meta = rendered if own is None else rendered.with_title(own)
        own_tags = state.tag_overrides.get(path)
        if own_tags is not None:
            tags = split_tags(own_tags)
            meta = replace(meta, tags=tags)
            # As for titles: the batch's tags no longer concern this file, its own do.
            problems = [p for p in problems if not (p.field == "tags" and p.path == path)]
            problems += [replace(p, path=path) for p in check_tags(tags)]
        if own is not None:
            # The template's verdict on this file no longer applies: its own title does.
            # Only its title problems: its file name and its own tags still concern it.
            problems = [p for p in problems if not (p.field == "title" and p.path == path)]
            problems += [replace(p, path=path) for p in check_title(own)]
        final.append(meta)
    problems += [p for p in check_description(template.description) if p.severity == "warning"]
    return final, problems


class MetadataFormScreen(Screen[None]):
    class StartRequested(Message):
        """The batch is described and valid: the app queues it (and says what failed)."""

        def __init__(self, batch: list[tuple[Path, VideoMetadata]]) -> None:
            super().__init__()
            self.batch = batch

    TITLE = "Describe the batch"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "start", "Start uploads", id="form.start"),
        Binding("ctrl+o", "focus_presets", "Presets", id="form.presets"),
        Binding("ctrl+r", "save_preset", "Save preset", id="form.save_preset"),
        Binding("ctrl+t", "focus_preview", "Titles", show=False, id="form.titles"),
        Binding("escape", "back", "Back", id="form.back"),
    ]
    DEFAULT_CSS = """
    MetadataFormScreen > VerticalScroll { padding: 0 1; }
    MetadataFormScreen #summary { height: auto; margin-bottom: 1; }
    MetadataFormScreen FieldRow, MetadataFormScreen Checkbox { margin-bottom: 1; }
    MetadataFormScreen #summary.-blocked { color: $error; }
    MetadataFormScreen #summary.-ready { color: $success; }
    MetadataFormScreen #flags { height: auto; }
    MetadataFormScreen Checkbox { width: auto; }
    MetadataFormScreen .section { color: $text-muted; text-style: bold; }
    MetadataFormScreen #description { height: 4; }
    """

    def __init__(self, paths: list[Path], state: FormState, today: date | None = None) -> None:
        super().__init__()
        self.paths = paths
        self.state = state
        self.today = today
        self.problems: list[FieldProblem] = []

    @property
    def youku(self) -> YoukuApp:
        return cast("YoukuApp", self.app)

    def compose(self) -> ComposeResult:
        s = self.state
        presets = sorted(self.youku.config.presets)
        with VerticalScroll(id="form"):
            yield Static(
                f"[b]{len(self.paths)} file(s)[/b], one description for all. "
                "Title placeholders: {stem} {name} {index} {date}",
                markup=True,
            )
            yield Static("", id="summary")
            yield FieldRow(
                "preset",
                "Preset",
                Select([(n, n) for n in presets], prompt="(none)", compact=True, id="preset"),
                "ctrl+r saves the form as a named preset",
            )
            yield FieldRow("title", "Title", SteadyInput(s.title, compact=True, id="title"))
            yield FieldRow("tags", "Tags", SteadyInput(s.tags, compact=True, id="tags"))
            yield FieldRow(
                "description",
                "Description",
                SteadyTextArea(s.description, compact=True, id="description"),
                f"optional, at most {DESCRIPTION_MAX} characters",
            )
            yield FieldRow(
                "category", "Category", SteadyInput(s.category, compact=True, id="category")
            )
            yield FieldRow(
                "copyright_type",
                "Copyright",
                Select(
                    [(c.value, c.value) for c in CopyrightType],
                    value=s.copyright_type,
                    allow_blank=False,
                    compact=True,
                    id="copyright_type",
                ),
            )
            yield FieldRow(
                "public_type",
                "Visibility",
                Select(
                    [(p.value, p.value) for p in PublicType],
                    value=s.public_type,
                    allow_blank=False,
                    compact=True,
                    id="public_type",
                ),
            )
            yield FieldRow(
                "watch_password",
                "Password",
                SteadyInput(s.watch_password, password=True, compact=True, id="watch_password"),
                "letters and digits, at most 32",
            )
            yield FieldRow(
                "thumbnail",
                "Thumbnail",
                SteadyInput(s.thumbnail, placeholder="optional URL", compact=True, id="thumbnail"),
            )
            yield Checkbox("deshake", s.deshake, compact=True, id="deshake")
            yield Checkbox("isweb", s.isweb, compact=True, id="isweb")
            yield Static("Titles (Enter on a file: its own title and tags)", classes="section")
            yield TitlePreview(id="preview")
        yield PaletteFooter()

    def on_mount(self) -> None:
        self.query_one("#title", Input).focus()
        self.revalidate()
        if self.youku.media is not None:
            self.probe_files()

    @work(thread=True, exclusive=True, group="probe")
    def probe_files(self) -> None:
        """Duration, resolution and codec of each file (the browser probed most already)."""
        media = self.youku.media
        worker = get_current_worker()
        for path in self.paths:
            if media is None or worker.is_cancelled:
                return
            if media.cached(path) is None:
                media.probe(path)
                self.app.call_from_thread(self.revalidate)
        self.app.call_from_thread(self.revalidate)

    def media_problems(self) -> list[FieldProblem]:
        """A file whose content is not a video is flagged before anything is sent."""
        media = self.youku.media
        problems = []
        for path in self.paths:
            info = media.cached(path) if media is not None else None
            if info is not None and info.kind == "not-video":
                problems.append(
                    FieldProblem(
                        "file",
                        f"{path.name} is {info.summary()}: go back (esc) and unpick it",
                    )
                )
        return problems

    # --- live checks ----------------------------------------------------------------------

    def _row(self, name: str) -> FieldRow:
        return self.query_one(f"#row-{name}", FieldRow)

    def revalidate(self) -> None:
        s = self.state
        self.query_one("#row-watch_password").display = s.public_type is PublicType.PASSWORD
        metas, problems = plan_batch(s, self.paths, self.today)
        # Field-level checks name the field; batch checks add "(for file)" per file.
        tags = split_tags(s.tags)
        every_file_has_own_tags = all(path in s.tag_overrides for path in self.paths)
        field_problems = [
            *([] if every_file_has_own_tags else check_tags(tags)),
            *[p for p in problems if p.field == "tags" and _about_own_tags(p, s)],
            *check_description(s.description),
            *check_category(s.category),
            *check_watch_password(s.public_type, s.watch_password),
        ]
        title_problems = [p for p in problems if p.field in {"title", "file"}]
        if not s.title.strip() and not s.overrides:
            title_problems = check_title(s.title)
        title_problems = [*self.media_problems(), *title_problems]
        self.problems = [
            *title_problems,
            *[p for p in field_problems if p not in title_problems],
        ]
        self._row("title").show_problems(
            self._compact_title_problems(title_problems),
            "✓ " + safe_markup(metas[0].title if metas else ""),
        )
        self._row("tags").show_problems(field_problems, tag_chips(tags))
        self._row("description").show_problems(
            [_with_count(p, len(s.description)) for p in field_problems],
            f"{len(s.description)}/{DESCRIPTION_MAX} characters" if s.description else "",
        )
        for name in ("category", "watch_password"):
            self._row(name).show_problems(field_problems)
        self.query_one(TitlePreview).show(
            self.paths[:PREVIEW_LIMIT],
            [m.title for m in metas[:PREVIEW_LIMIT]],
            s.overrides,
            {
                path: ", ".join(meta.tags)
                for path, meta in zip(self.paths, metas, strict=True)
                if path in s.tag_overrides
            },
            hidden=max(0, len(self.paths) - PREVIEW_LIMIT),
            media=self.youku.media,
        )
        self._show_summary()

    @staticmethod
    def _compact_title_problems(problems: list[FieldProblem]) -> list[FieldProblem]:
        """At most three per-file title messages, then a count (a batch can be long)."""
        shown = problems[:3]
        if len(problems) > 3:
            shown.append(FieldProblem("title", f"…and {len(problems) - 3} more"))
        return [replace(p, field="title") for p in shown]

    def _show_summary(self) -> None:
        errors = [p for p in self.problems if p.severity == "error"]
        summary = self.query_one("#summary", Static)
        summary.set_class(bool(errors), "-blocked")
        summary.set_class(not errors, "-ready")
        if errors:
            fields = sorted({p.field for p in errors})
            summary.update(f"✗ cannot start: fix {', '.join(fields)} ({len(errors)} problem(s))")
        else:
            summary.update("✓ ready: ctrl+s starts the uploads")

    @on(Input.Changed)
    def input_changed(self, event: Input.Changed) -> None:
        name = event.input.id or ""
        if name in {"title", "tags", "description", "category", "thumbnail", "watch_password"}:
            setattr(self.state, name, event.value)
            self.revalidate()

    @on(TextArea.Changed, "#description")
    def description_changed(self, event: TextArea.Changed) -> None:
        self.state.description = event.text_area.text
        self.revalidate()

    @on(Select.Changed)
    def select_changed(self, event: Select.Changed) -> None:
        name = event.select.id or ""
        if name == "preset":
            if isinstance(event.value, str):
                self.load_preset(event.value)
            return
        if name == "copyright_type" and isinstance(event.value, str):
            self.state.copyright_type = CopyrightType(event.value)
            self.revalidate()
        elif name == "public_type" and isinstance(event.value, str):
            self.state.public_type = PublicType(event.value)
            self.revalidate()

    @on(Checkbox.Changed)
    def checkbox_changed(self, event: Checkbox.Changed) -> None:
        if event.checkbox.id in {"deshake", "isweb"}:
            setattr(self.state, event.checkbox.id, event.value)

    @on(OptionList.OptionSelected, "#preview")
    def title_selected(self, event: OptionList.OptionSelected) -> None:
        index = int(event.option.id or 0)
        self.edit_own_title(self.paths[index])

    @work(exclusive=True, group="own-title")
    async def edit_own_title(self, path: Path) -> None:
        """This file's own title, then its own tags (each: empty = the batch's)."""
        asks = (
            (self.state.overrides, f"Title for {path.name} (empty: use the template):"),
            (self.state.tag_overrides, f"Tags for {path.name} (empty: the batch's tags):"),
        )
        for overrides, question in asks:
            answer = await self.app.push_screen_wait(
                PromptScreen(question, overrides.get(path, ""))
            )
            if answer is None:
                break  # Esc: keep what was set so far, skip the rest
            if answer.strip():
                overrides[path] = answer
            else:
                overrides.pop(path, None)
            self.revalidate()

    # --- presets --------------------------------------------------------------------------

    def load_preset(self, name: str) -> None:
        preset = self.youku.config.presets.get(name)
        if preset is None:
            return
        self.state.load(preset)
        s = self.state
        for widget_id, value in (
            ("title", s.title),
            ("tags", s.tags),
            ("category", s.category),
        ):
            self.query_one(f"#{widget_id}", Input).value = value
        self.query_one("#description", TextArea).text = s.description
        self.query_one("#copyright_type", Select).value = s.copyright_type
        self.query_one("#public_type", Select).value = s.public_type
        self.revalidate()
        self.notify(f"Preset {name!r} loaded", timeout=2)

    def action_focus_presets(self) -> None:
        self.query_one("#preset", Select).focus()

    def action_focus_preview(self) -> None:
        preview = self.query_one(TitlePreview)
        preview.focus()
        if preview.highlighted is None and preview.option_count:
            preview.highlighted = 0

    @work(exclusive=True, group="save-preset")
    async def action_save_preset(self) -> None:
        name = await self.app.push_screen_wait(PromptScreen("Save this form as preset named:"))
        if not name or not name.strip():
            return
        name = name.strip()
        try:
            self.youku.save_preset(name, self.state.as_defaults())
        except Exception as exc:
            self.notify(f"Could not save preset: {exc}", severity="error")
            return
        select = self.query_one("#preset", Select)
        select.set_options([(n, n) for n in sorted(self.youku.config.presets)])
        self.notify(f"Preset {name!r} saved", timeout=2)

    # --- start ----------------------------------------------------------------------------

    def action_start(self) -> None:
        self.revalidate()
        errors = [p for p in self.problems if p.severity == "error"]
        if errors:
            first = errors[0]
            self.notify(
                f"Cannot start: {first.field} {first.text}"
                + (f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""),
                severity="error",
                timeout=6,
            )
            target = {"file": "title", "metadata": "title"}.get(first.field, first.field)
            for widget in self.query(f"#{target}"):
                widget.focus()
            return
        metas, _ = plan_batch(self.state, self.paths, self.today)
        self.post_message(self.StartRequested(list(zip(self.paths, metas, strict=True))))

    def action_back(self) -> None:
        self.app.pop_screen()


def _about_own_tags(problem: FieldProblem, state: FormState) -> bool:
    """True for a problem with a file's own tags (the batch's tags are checked once, above)."""
    return problem.path in state.tag_overrides


def _with_count(problem: FieldProblem, length: int) -> FieldProblem:
    """A description problem with the running count, so the user sees how far over it is."""
    if problem.field != "description":
        return problem
    return replace(problem, message=f"{problem.message} ({length}/{DESCRIPTION_MAX})")


__all__ = ["FormState", "LocalFileError", "MetadataFormScreen", "plan_batch"]
