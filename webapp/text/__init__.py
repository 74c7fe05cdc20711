"""Pure text logic: importing, canonical text, segmentation, anchoring, marks, sanitizing.

Nothing in this package imports Flask; it is unit-tested directly.
"""
