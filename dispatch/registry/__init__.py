"""The grid network's registry: units, grids, revisions, rules, imports, history and GeoJSON reads."""
