"""Metadata of each format -> one common, immutable description. Pure: no I/O."""
