"""What people touch: the `tierwise` command line and the Streamlit dashboard."""
