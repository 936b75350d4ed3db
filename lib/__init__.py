"""Executable reconstruction of Vedovati & Ching (2024): context modulation pathways in multitask
RNNs."""
