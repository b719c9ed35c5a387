"""Codecs: one module per family, one registry, one pipeline for every format."""
