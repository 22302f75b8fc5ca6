"""The Streamlit entry point: page config, the store check, sidebar filters and navigation grouped by audience."""

from __future__ import annotations

import streamlit as st
from streamlit.navigation.page import StreamlitPage

from app import auth, components, data
from app.pages import AUDIENCES, PAGES, PageSpec, by_path
from app.views import common, mapping, url_controls


def _navigation() -> StreamlitPage:
    sections: dict[str, list[StreamlitPage]] = {}
    for audience in AUDIENCES:
        pages = [p for p in PAGES if p.audience == audience]
        if pages:
            sections[audience] = [st.Page(p.view, title=p.title, icon=p.icon, url_path=p.url_path, default=p.default)
                                  for p in pages]
    return st.navigation(sections)


def run(only: str | None = None) -> None:
    """Draw the app; `only` draws one page (by url path) without the navigation menu, as tests do."""
    st.set_page_config(page_title="tierwise", page_icon=":material/hub:", layout="wide")
    auth.gate()  # with `tierwise serve --login`, nothing below runs until someone is signed in
    status = data.status()
    if status.state != "ok":
        def start() -> None:
            components.empty_store(status)

        if only:
            start()
        else:
            st.navigation([st.Page(start, title="Get started", url_path="start", default=True)]).run()
        return
    spec: PageSpec | None = by_path(only) if only else None
    page = None if spec else _navigation()
    st.session_state[url_controls.AT_START] = st.query_params.to_dict()  # pages' own controls, before the sidebar's
    common.sidebar(data.dimensions())
    st.sidebar.caption(f"Store: `{status.path.name}` (read-only). Refresh the page to see newly ingested data.")
    here = spec.url_path if spec else page.url_path if page else ""
    mapping.strip(link=here != "mapping")  # the placed share of spans, requests and money, above every page
    with components.engine_gaps():  # a query ClickHouse refuses ends the page with a notice, not a traceback
        if spec:
            spec.view()
        elif page is not None:
            page.run()


if __name__ == "__main__":
    run()
