"""Login: client id, access and refresh tokens, API base. Saved to the config file (0600),
except for the sandbox, whose tokens are its own and must not replace the user's.

Tokens are typed into password fields and never shown, logged or echoed back.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Input, Label, Static

from youku_tui.config import DEFAULT_API_BASE, Config, Credentials, check_api_base, update_config
from youku_tui.errors import ConfigError
from youku_tui.textsafe import safe_markup
from youku_tui.tui.widgets.footer import PaletteFooter
from youku_tui.tui.widgets.inputs import SteadyInput


@dataclass(frozen=True, slots=True)
class LoginResult:
    config: Config


class LoginScreen(Screen[LoginResult | None]):
    DEFAULT_CSS = """
    LoginScreen { align: center top; }
    LoginScreen > VerticalScroll { width: 76; max-width: 100%; padding: 0 1; }
    LoginScreen Vertical { height: auto; }
    LoginScreen Label { margin-top: 1; }
    LoginScreen #login-error { color: $error; height: auto; }
    LoginScreen #intro { color: $text-muted; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save and continue", id="login.save"),
        Binding("escape", "back", "Back", id="login.back"),
    ]

    def __init__(
        self,
        config: Config,
        reason: str = "",
        config_path: Path | None = None,
        *,
        save: bool = True,
    ) -> None:
        super().__init__()
        self.config = config
        self.reason = reason
        self.config_path = config_path
        self.save = save

    def compose(self) -> ComposeResult:
        creds = self.config.credentials
        with VerticalScroll():
            yield Static("[b]Log in to Youku[/b]", markup=True)
            yield Static(
                (self.reason + "\n" if self.reason else "")
                + "Enter your app's client_id and OAuth tokens "
                + (
                    "(they are saved to the config file, readable by you only)."
                    if self.save
                    else "(sandbox: used for this run only, not saved)."
                ),
                id="intro",
            )
            with Vertical():
                yield Label("client_id")
                yield SteadyInput(
                    creds.client_id, placeholder="client_id", id="client_id", compact=True
                )
                yield Label("access token")
                yield SteadyInput(
                    password=True, placeholder="access token", id="access_token", compact=True
                )
                yield Label("refresh token")
                yield SteadyInput(
                    password=True, placeholder="refresh token", id="refresh_token", compact=True
                )
                yield Label("API base")
                yield SteadyInput(self._shown_api_base(), id="api_base", compact=True)
            yield Static("", id="login-error")
            yield Button("Save and continue (ctrl+s)", variant="primary", compact=True, id="save")
        yield PaletteFooter()

    def _shown_api_base(self) -> str:
        return self.config.api_base or DEFAULT_API_BASE

    def on_mount(self) -> None:
        self.query_one("#client_id", Input).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "save":
            self.action_save()

    def on_input_submitted(self) -> None:
        self.action_save()

    def _value(self, widget_id: str) -> str:
        return self.query_one(f"#{widget_id}", Input).value.strip()

    def action_save(self) -> None:
        error = self.query_one("#login-error", Static)
        client_id = self._value("client_id")
        access = self._value("access_token")
        refresh = self._value("refresh_token")
        if not client_id or not (access or refresh):
            error.update("client_id and an access or refresh token are required")
            return
        try:
            api_base = check_api_base(self._value("api_base"))
            creds = Credentials(client_id=client_id, access_token=access, refresh_token=refresh)
            if self.save:
                # The field starts with this run's API base, which YOUKU_API_BASE may have
                # set: the file gets it only when the user typed another.
                shown = check_api_base(self._shown_api_base())
                changed = {"api_base": api_base} if api_base != shown else {}
                update_config(self.config_path, credentials=creds, **changed)
        except ConfigError as exc:
            error.update(safe_markup(exc))
            return
        self.dismiss(LoginResult(replace(self.config, credentials=creds, api_base=api_base)))

    def action_back(self) -> None:
        self.dismiss(None)
