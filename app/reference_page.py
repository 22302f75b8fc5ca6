"""The floor bench/pages.py measures against: a bare Streamlit page drawing one small Plotly chart (no store, no query)."""

import plotly.graph_objects as go
import streamlit as st

from store.contract import TIERS

st.title("Reference")
st.plotly_chart(go.Figure(go.Bar(x=list(TIERS), y=list(range(1, len(TIERS) + 1)))))
