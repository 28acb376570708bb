"""Polygons: partitioning, the synthetic county, and tiling checks. Pure."""
