"""The Data tab."""

import streamlit as st


def render(models: list[str], *args) -> None:
    """models: names from mnist_core.MODEL_NAMES chosen in the sidebar ("mlp", "lenet5")."""
    st.info("Coming soon.")
