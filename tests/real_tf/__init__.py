"""Helpers that run with real TensorFlow (in the real Debian lane), never imported by the app."""
