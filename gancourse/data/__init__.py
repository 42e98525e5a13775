"""Datasets: toy distributions with known modes, procedurally rendered glyphs, and real image sets."""
