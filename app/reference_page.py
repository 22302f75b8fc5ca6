"""The floor bench/pages.py measures against: a bare Streamlit page drawing one small Plotly chart (no store, no query)."""

import plotly.graph_objects as go
import streamlit as st

st.title("Reference")
st.plotly_chart(go.Figure(go.Bar(x=["device", "edge", "regional", "hyperscale"], y=[1, 2, 3, 4])))
