"""Models and training: ST-GCN, MS-G3D (later issue)."""
