"""Biomechanics: joint angles and the 83-dimensional feature builder (later issue)."""
