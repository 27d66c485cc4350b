"""Painterly harmonization: an object pasted into a painting, painted like the rest of it (--harmonize)."""
