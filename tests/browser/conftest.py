"""Fixtures for the real-browser tests: a JupyterLab server and Debian Chromium.

Each server runs as a subprocess on 127.0.0.1 with a throw-away HOME, config,
data, runtime, settings and workspaces folder, so nothing touches the real
home. Chromium is driven through PyPI playwright, never a downloaded browser.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Locator, Page, expect, sync_playwright

if TYPE_CHECKING:
    from deployments_support import ModelServers

CHROMIUM = Path("/usr/bin/chromium")
ALLOW_SKIP_ENV = "MLOPS_LAB_ALLOW_BROWSER_SKIP"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SERVER_START_TIMEOUT = 90.0
REPO_ROOT = Path(__file__).resolve().parents[2]
# Assertions wait up to 15 s (playwright's default is 5 s): on a loaded 2-core machine a
# panel's first REST call can take longer than that; a passing assertion does not wait.
expect.set_options(timeout=15_000)


def _unavailable(reason: str) -> None:
    """Skip when the developer allowed it, fail otherwise (CI has Chromium)."""
    if os.environ.get(ALLOW_SKIP_ENV) == "1":
        pytest.skip(reason)
    pytest.fail(f"{reason} (set {ALLOW_SKIP_ENV}=1 to skip browser tests instead)")


@dataclass(frozen=True, kw_only=True)
class LabServer:
    """A running `jupyter lab` subprocess."""

    port: int
    token: str
    root: Path
    env: dict[str, str]
    log_path: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def lab_url(self) -> str:
        return f"{self.base_url}/lab?token={self.token}"

    def log_tail(self, chars: int = 4000) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")[-chars:]

    def python(self, code: str, *args: str) -> str:
        """Run Python in the server's folder and environment, as a notebook would."""
        return _run([sys.executable, "-c", code, *args], cwd=self.root, env=self.env)


def _run(command: list[str], *, cwd: Path, env: dict[str, str]) -> str:
    result = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, f"{command} failed:\n{result.stdout}{result.stderr}"
    return result.stdout


def mlops_lab_cli() -> list[str]:
    """The `mlops-lab` command of the running interpreter's environment."""
    script = Path(sys.executable).parent / "mlops-lab"
    return [str(script)] if script.exists() else [sys.executable, "-m", "mlops_lab"]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _write_settings(settings_dir: Path, theme: str | None) -> None:
    """User settings: no news or update checks, and the requested theme."""
    apputils = settings_dir / "@jupyterlab" / "apputils-extension"
    apputils.mkdir(parents=True, exist_ok=True)
    (apputils / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False}), encoding="utf-8"
    )
    if theme:
        (apputils / "themes.jupyterlab-settings").write_text(
            json.dumps({"theme": theme}), encoding="utf-8"
        )


def _isolated_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLOPS_LAB_")}
    for name in ("config", "data", "runtime"):
        (home / name).mkdir(parents=True, exist_ok=True)
    env.update(
        HOME=str(home),
        JUPYTER_CONFIG_DIR=str(home / "config"),
        JUPYTER_DATA_DIR=str(home / "data"),
        JUPYTER_RUNTIME_DIR=str(home / "runtime"),
        PYTHONUNBUFFERED="1",
    )
    return env


def _wait_until_ready(server: LabServer, process: subprocess.Popen[bytes]) -> None:
    url = f"{server.base_url}/api/status?token={server.token}"
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"jupyter lab exited with {process.returncode}:\n{server.log_tail()}"
            )
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.25)
    raise RuntimeError(
        f"jupyter lab did not answer in {SERVER_START_TIMEOUT}s:\n{server.log_tail()}"
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop the server and its kernels: SIGTERM to its process group, then SIGKILL.

    A server with running kernels can take well over 10 s to shut down on SIGTERM;
    the test is over, so after a short grace the whole group is killed (no kernel
    is left behind either way).
    """
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=3)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=15)


LabFactory = Callable[..., LabServer]


@pytest.fixture(autouse=True)
def jp_asyncio_loop() -> Iterator[None]:
    """No event loop of pytest-jupyter here: playwright's sync API runs its own.

    tests/conftest.py loads pytest-jupyter's plugin for the server tests; its
    autouse loop fixture would try to close playwright's running loop.
    """
    yield None


@pytest.fixture(autouse=True)
def jp_server_cleanup() -> Iterator[None]:
    """No in-process Jupyter server to clean up: these tests run `jupyter lab` processes."""
    yield None


@pytest.fixture
def start_lab(tmp_path: Path) -> Iterator[LabFactory]:
    """Start `jupyter lab` on a folder; every server is stopped at teardown."""
    processes: list[subprocess.Popen[bytes]] = []

    def start(
        root: Path, *, init: bool = True, theme: str | None = None, server_extension: bool = True
    ) -> LabServer:
        """Serve `root`, first made a workspace with `mlops-lab init` if `init`.

        `server_extension=False` disables the mlops_lab server extension (as if
        it had never been enabled) while the frontend extension stays loaded.
        """
        scratch = tmp_path / f"lab-{len(processes)}"
        env = _isolated_env(scratch / "home")
        root.mkdir(parents=True, exist_ok=True)
        if init:
            _run([*mlops_lab_cli(), "init", str(root)], cwd=root, env=env)
        _write_settings(scratch / "settings", theme)
        (scratch / "workspaces").mkdir(parents=True)
        server = LabServer(
            port=_free_port(),
            token=secrets.token_hex(16),
            root=root,
            env=env,
            log_path=scratch / "server.log",
        )
        command = [
            sys.executable,
            "-m",
            "jupyterlab",
            "--no-browser",
            "--allow-root",
            "--ip=127.0.0.1",
            f"--port={server.port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={server.token}",
            f"--ServerApp.root_dir={root}",
            f"--LabApp.user_settings_dir={scratch / 'settings'}",
            f"--LabApp.workspaces_dir={scratch / 'workspaces'}",
        ]
        if not server_extension:
            command.append("--ServerApp.jpserver_extensions=mlops_lab=False")
        with server.log_path.open("wb") as log:
            process = subprocess.Popen(
                command,
                cwd=root,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, kernels included
            )
        processes.append(process)
        _wait_until_ready(server, process)
        return server

    yield start
    for process in processes:
        _stop(process)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian Chromium, headless, through PyPI playwright.

    Module-scoped: playwright's sync API runs an asyncio loop while it is
    open, which would break the pytest-jupyter tests that run after these.
    """
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is missing (apt-get install chromium)")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A fresh browser page, 1280x800, that fails its test on any console error.

    Every console error and uncaught exception of the page is collected (see
    :func:`watch_console`); at teardown the test fails if one is left that its
    ``allow_console_error`` markers do not expect.
    """
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(30_000)
    page = context.new_page()
    errors = watch_console(page)
    try:
        yield page
    finally:
        context.close()
    unexpected = [e for e in errors if not _expected(e, request.node)]
    assert unexpected == [], f"console errors during {request.node.name}: {unexpected}"


def watch_console(page: Page) -> list[str]:
    """The page's console errors and uncaught exceptions, as they happen."""
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(f"console: {message.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: errors.append(f"page error: {error}"))
    setattr(page, _ERRORS, errors)
    return errors


_ERRORS = "_mlops_console_errors"


def _expected(error: str, node: pytest.Item) -> bool:
    """Whether a marker ``@pytest.mark.allow_console_error(pattern, reason=...)``
    of the test expects `error` (a regular expression searched in it)."""
    return any(
        re.search(marker.args[0], error) for marker in node.iter_markers("allow_console_error")
    )


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo workspace after one run of the churn pipeline, built once per session.

    Tests must not change it: each takes its own copy with
    `deployments_support.copy_demo(demo, tmp_path / "demo")`.
    """
    from deployments_support import build_demo

    return build_demo(tmp_path_factory.mktemp("churn-demo"))


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[ModelServers]:
    """Start model servers (`serve(lab_server)`); each is stopped (SIGTERM) at teardown."""
    from deployments_support import ModelServers

    servers = ModelServers(tmp_path)
    yield servers
    servers.stop_all()


SCREENSHOTS = REPO_ROOT / "test-results" / "screenshots"
DOCS_IMAGES = REPO_ROOT / "docs" / "images"


@pytest.fixture
def screenshots_dir() -> Path:
    """Where panel screenshots go: test-results/screenshots (git-ignored), to look at
    after a run. With MLOPS_LAB_UPDATE_DOCS_IMAGES=1 the ones the README shows (those in
    docs/images) are then copied over it (see `pytest_sessionfinish`)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """With MLOPS_LAB_UPDATE_DOCS_IMAGES=1, refresh the README's images from this run."""
    if os.environ.get("MLOPS_LAB_UPDATE_DOCS_IMAGES") != "1":
        return
    for image in DOCS_IMAGES.glob("*.png"):
        shot = SCREENSHOTS / image.name
        if shot.exists():
            shutil.copyfile(shot, image)


@pytest.fixture
def console_errors(page: Page) -> list[str]:
    """The page's console errors so far, for a test that checks them midway
    (the `page` fixture fails the test on any left at its end)."""
    errors: list[str] = getattr(page, _ERRORS)
    return errors


PANEL = "#mlops-lab-panel"


def open_mlops(
    page: Page, url: str, *, view: str | None = None, width: int | None = None
) -> Locator:
    """Load JupyterLab at `url`, wait until it is restored, open the MLOps sidebar and
    return it; widen it to `width` px if asked, then show `view` (e.g. "Models") if asked."""
    page.goto(url)
    tab = page.locator('.jp-SideBar .lm-TabBar-tab[data-id="mlops-lab-panel"]')
    expect(tab).to_be_visible(timeout=60_000)
    # Once restored, JupyterLab focuses the launcher: wait, so it takes no keys typed later.
    expect(page.locator(".jp-Launcher")).to_be_focused(timeout=60_000)
    tab.click()
    panel = page.locator(PANEL)
    expect(panel).to_be_visible()
    if width is not None:
        widen_sidebar(page, width)
    if view is not None:
        show_view(panel, view)
    return panel


def widen_sidebar(page: Page, width: int) -> None:
    """Drag the left split handle so the sidebar is about `width` px wide."""
    handle = page.locator("#jp-main-split-panel > .lm-SplitPanel-handle:not(.lm-mod-hidden)").first
    box = handle.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(width + 33, box["y"] + box["height"] / 2, steps=4)
    page.mouse.up()


def show_view(panel: Locator, view: str) -> None:
    """Click the sidebar's icon tab of `view` (its name, e.g. "Models")."""
    panel.locator(f'.jp-mlops-tabs .lm-TabBar-tab[data-view="{view.lower()}"]').click()


def switch_theme(page: Page, theme: str) -> None:
    """Settings > Theme > `theme`, as a user would."""

    def item(label: str) -> Locator:
        exact = page.locator(".lm-Menu-itemLabel", has_text=re.compile(f"^{re.escape(label)}$"))
        return page.locator(".lm-Menu-item").filter(has=exact)

    page.locator(".lm-MenuBar-item", has_text="Settings").click()
    item("Theme").hover()
    item(theme).click()
    light = "false" if "Dark" in theme else "true"
    expect(page.locator(f'body[data-jp-theme-light="{light}"]')).to_have_count(1)


DARK = "JupyterLab Dark"


def shoot(page: Page, path: Path, **kwargs: Any) -> None:
    """Screenshot the page in the light theme, then the same state in the dark theme
    (switched live, as a user would; the light theme is back afterwards).

    A `{theme}` in the file name becomes `light` and `dark`; without one the dark
    shot is `<stem>-dark.png`. `kwargs` go to `page.screenshot` (e.g. `clip`).
    """
    if "{theme}" in path.name:
        light, dark = (path.with_name(path.name.format(theme=t)) for t in ("light", "dark"))
    else:
        light, dark = path, path.with_name(f"{path.stem}-dark{path.suffix}")
    page.screenshot(path=light, **kwargs)
    switch_theme(page, DARK)
    page.wait_for_timeout(300)  # charts redraw on the theme's signal
    page.screenshot(path=dark, **kwargs)
    switch_theme(page, "JupyterLab Light")
