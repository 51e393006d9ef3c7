"""Segments: filters compiled to one SQL select, saved segments, ID lists."""
