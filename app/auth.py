"""Dashboard login: whether it is on, the gate every run passes first, and who is signed in (Streamlit's own OIDC)."""

from __future__ import annotations

import sys
import tomllib
from collections.abc import Sequence
from pathlib import Path

FLAG = "--login"  # after `--` on the streamlit command line; `tierwise serve --login FILE` adds it (app/serve.py)
KEYS = ("redirect_uri", "cookie_secret", "client_id", "client_secret", "server_metadata_url")  # [auth], as st.login reads it
CALLBACK = "/oauth2callback"  # the path Streamlit serves the provider's answer on; redirect_uri must end with it


def enabled(argv: Sequence[str] | None = None) -> bool:
    """Whether this server requires login: only when `tierwise serve --login` started it, so a `.streamlit/secrets.toml`
    that happens to hold an [auth] table never locks anyone out of a server started without it."""
    return FLAG in (sys.argv[1:] if argv is None else argv)


def secrets_problem(path: Path) -> str | None:
    """Why `path` cannot configure st.login (one line), or None: checked before the server starts, so a typo is said
    at once instead of as an error after the first click on "Log in"."""
    try:
        auth = tomllib.loads(path.read_text(encoding="utf-8")).get("auth")
    except (OSError, UnicodeDecodeError) as e:
        return f"tierwise: cannot read the login secrets {path}: {e}"
    except tomllib.TOMLDecodeError as e:
        return f"tierwise: the login secrets {path} are not valid TOML: {e}"
    if not isinstance(auth, dict):
        return f"tierwise: the login secrets {path} have no [auth] table; see docs/dashboard.md (Login)"
    missing = [k for k in KEYS if not isinstance(auth.get(k), str) or not auth[k]]
    if missing:
        return f"tierwise: the [auth] table in {path} is missing {', '.join(missing)}; see docs/dashboard.md (Login)"
    if not str(auth["redirect_uri"]).rstrip("/").endswith(CALLBACK):
        return f"tierwise: redirect_uri in {path} must end with {CALLBACK} (e.g. http://localhost:8501{CALLBACK})"
    return None


def current_user() -> str | None:
    """The signed-in user's email (else name), or None without login: what a decision records as who made it."""
    import streamlit as st  # here, not at the top: `tierwise serve` reads FLAG and secrets_problem without Streamlit

    user = st.user
    if user.get("is_logged_in") is not True:
        return None
    who = user.get("email") or user.get("name")
    return str(who) if who else None


def gate() -> None:
    """With login on, stop the run unless someone is signed in (a "Log in" button, nothing else drawn); once signed in,
    name them in the sidebar beside a "Log out" button. With login off, draw nothing and return."""
    import streamlit as st

    if not enabled():
        return
    if not st.user.is_logged_in:
        st.title("tierwise")
        st.write("This dashboard requires login.")
        if st.button("Log in", type="primary", icon=":material/login:"):
            st.login()
        st.stop()
    st.sidebar.text(f"Signed in as {current_user() or 'an unnamed user'}")  # text, never Markdown: the provider names it
    if st.sidebar.button("Log out", icon=":material/logout:"):
        st.logout()
