"""`tierwise serve --login` end to end: headless Chromium, a real subprocess and a real OIDC provider on loopback."""

from __future__ import annotations

import contextlib
import json
import secrets
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from ingest_helpers import tiny_store
from serve_helpers import ARGS, CHROMIUM, free_port, serving

from app import auth, serve
from app.views import overview

pytest.importorskip("playwright")
oidc_provider_mock = pytest.importorskip("oidc_provider_mock")
import werkzeug.serving  # noqa: E402  (oidc-provider-mock's own server)
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright  # noqa: E402

ALICE = "alice@example.com"
HEADING = overview.HEADING  # "Estate overview": the data a visitor must not see before login
WAIT_MS = 60_000




@pytest.fixture(scope="module")
def store_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny store, loaded by the real CLI."""
    return tiny_store(tmp_path_factory.mktemp("login"))


@pytest.fixture(scope="module")
def ports() -> tuple[int, int]:
    """The dashboards' ports (the right client secret, a wrong one), known before the client is registered."""
    return free_port(), free_port()


@pytest.fixture(scope="module")
def provider() -> Iterator[str]:
    """oidc-provider-mock's WSGI app on 127.0.0.1 (a free port), in a thread; alice is offered on its form. Clients
    must be registered, so a wrong client secret is refused."""
    alice = oidc_provider_mock.User(sub=ALICE, claims={"email": ALICE, "name": "Alice"})
    app = oidc_provider_mock.app(user_claims=[alice], require_client_registration=True)
    server = werkzeug.serving.make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture(scope="module")
def client(provider: str, ports: tuple[int, int]) -> tuple[str, str]:
    """(client_id, client_secret) of the dashboard, registered with the provider for both ports' callbacks."""
    body = json.dumps({"redirect_uris": [f"http://127.0.0.1:{p}/oauth2callback" for p in ports]}).encode()
    req = urllib.request.Request(f"{provider}/oauth2/clients", data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        made = json.load(r)
    return str(made["client_id"]), str(made["client_secret"])


@contextlib.contextmanager
def serving_login(store_db: Path, provider: str, port: int, client_id: str, client_secret: str) -> Iterator[str]:
    """`tierwise serve --login FILE` as a real process on `port`, its [auth] table pointing at the provider; stopped
    with SIGTERM, which it must answer with exit code 0."""
    base = f"http://127.0.0.1:{port}"
    login = store_db.parent / f"login-{port}.toml"
    login.write_text(f"""[auth]
redirect_uri = "{base}/oauth2callback"
cookie_secret = "{secrets.token_hex(32)}"
client_id = "{client_id}"
client_secret = "{client_secret}"
server_metadata_url = "{provider}/.well-known/openid-configuration"
""", encoding="utf-8")
    login.chmod(0o600)
    with serving(store_db, store_db.parent, ["--login", str(login)], port, log=store_db.parent / f"serve-{port}.log",
                 start_s=90, clean_exit=True) as served:
        yield served


@pytest.fixture(scope="module")
def server(store_db: Path, provider: str, ports: tuple[int, int], client: tuple[str, str]) -> Iterator[str]:
    with serving_login(store_db, provider, ports[0], *client) as base:
        yield base


@pytest.fixture(scope="module")
def wrong_secret_server(store_db: Path, provider: str, ports: tuple[int, int], client: tuple[str, str]) -> Iterator[str]:
    with serving_login(store_db, provider, ports[1], client[0], "not-" + client[1]) as base:
        yield base


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh profile per test: no cookie, so no session."""
    ctx: BrowserContext = browser.new_context(viewport={"width": 1400, "height": 1200})
    pg = ctx.new_page()
    yield pg
    ctx.close()


def login_screen(pg: Page) -> None:
    """The gate is up: its "Log in" button, and neither the overview's heading nor the sidebar's filters."""
    pg.get_by_role("button", name="Log in").wait_for(timeout=WAIT_MS)
    pg.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=WAIT_MS)
    assert pg.get_by_role("heading", name=HEADING).count() == 0
    assert pg.locator('[data-testid="stSidebar"]').count() == 0 or "Time range" not in pg.inner_text("body")
    assert pg.locator(".js-plotly-plot").count() == 0


def to_provider(pg: Page, server: str, provider: str) -> None:
    pg.goto(server)
    login_screen(pg)
    pg.get_by_role("button", name="Log in").click()
    pg.wait_for_url(f"{provider}/oauth2/authorize**", timeout=WAIT_MS)


@pytest.mark.slow
def test_no_session_shows_only_the_login_button(server: str, page: Page) -> None:
    page.goto(server)
    login_screen(page)
    page.goto(f"{server}/finops")  # a page's own URL is behind the gate too
    login_screen(page)


@pytest.mark.slow
def test_login_through_the_provider_lands_on_the_dashboard(server: str, provider: str, page: Page) -> None:
    to_provider(page, server, provider)
    page.get_by_role("button", name=ALICE).click()  # the mock's form: authorize this predefined user
    page.wait_for_url(f"{server}/**", timeout=WAIT_MS)
    page.get_by_role("heading", name=HEADING).first.wait_for(timeout=WAIT_MS)
    sidebar = page.locator('[data-testid="stSidebar"]')
    sidebar.get_by_text(f"Signed in as {ALICE}").wait_for(timeout=WAIT_MS)
    sidebar.get_by_role("button", name="Log out").wait_for(timeout=WAIT_MS)  # drawn just after the name
    assert sidebar.get_by_role("button", name="Log out").count() == 1
    page.reload()  # the session lives in Streamlit's signed cookie, not in the tab
    page.get_by_role("heading", name=HEADING).first.wait_for(timeout=WAIT_MS)


@pytest.mark.slow
def test_a_denied_login_shows_no_data(server: str, provider: str, page: Page) -> None:
    to_provider(page, server, provider)
    page.get_by_role("button", name="Deny").click()
    page.wait_for_url(f"{server}/**", timeout=WAIT_MS)
    login_screen(page)
    page.wait_for_timeout(1500)  # nothing arrives late either
    assert page.get_by_role("heading", name=HEADING).count() == 0


@pytest.mark.slow
def test_a_wrong_client_secret_shows_no_data(wrong_secret_server: str, provider: str, page: Page) -> None:
    to_provider(page, wrong_secret_server, provider)
    page.get_by_role("button", name=ALICE).click()  # the user agrees; the provider then refuses the dashboard's secret
    page.wait_for_url(f"{wrong_secret_server}/**", timeout=WAIT_MS)
    login_screen(page)  # back at the gate: the code was not exchanged for a token
    page.wait_for_timeout(1500)
    assert page.get_by_role("heading", name=HEADING).count() == 0
    assert page.get_by_text("Signed in as").count() == 0


def test_login_secrets_are_checked_before_the_server_starts(tmp_path: Path) -> None:
    good = tmp_path / "good.toml"
    good.write_text('[auth]\nredirect_uri = "http://127.0.0.1:8501/oauth2callback"\ncookie_secret = "c"\n'
                    'client_id = "i"\nclient_secret = "s"\nserver_metadata_url = "http://idp/.well-known/openid-configuration"\n')
    assert auth.secrets_problem(good) is None
    cmd = serve.command(tmp_path / "x.duckdb", 8501, "127.0.0.1", good)
    assert cmd[cmd.index("--secrets.files") + 1] == str(good.resolve())  # Streamlit's documented secrets location
    assert cmd[-1] == auth.FLAG and auth.enabled(cmd[cmd.index("--") + 1:])
    assert "--secrets.files" not in serve.command(tmp_path / "x.duckdb") and not auth.enabled(["--db", "x.duckdb"])
    bad = tmp_path / "bad.toml"
    bad.write_text('[auth]\nredirect_uri = "http://127.0.0.1:8501/"\nclient_id = "i"\n')
    assert "missing cookie_secret, client_secret, server_metadata_url" in (auth.secrets_problem(bad) or "")
    bad.write_text("[auth\n")
    assert "not valid TOML" in (auth.secrets_problem(bad) or "")
    bad.write_text('[other]\nx = 1\n')
    assert "no [auth] table" in (auth.secrets_problem(bad) or "")
    assert serve.exposure_warning("0.0.0.0", 8501, login=True) is None
    assert "--login FILE" in (serve.exposure_warning("0.0.0.0", 8501) or "")
