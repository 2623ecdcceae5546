"""Form scoring, repetition counting, muscle groups (later issue)."""
