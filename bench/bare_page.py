"""The reference page of bench/pages.py: Streamlit drawing one small Plotly chart and nothing else (no store, no query)."""

import plotly.graph_objects as go
import streamlit as st

st.title("Reference")
st.plotly_chart(go.Figure(go.Bar(x=["device", "edge", "regional", "hyperscale"], y=[1, 2, 3, 4])))
