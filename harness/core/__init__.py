"""The shared kernel: stdlib and numpy only, importable from every layer."""
