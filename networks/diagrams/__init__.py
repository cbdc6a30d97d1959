"""Pictures of a cluster as plain data for the SVG templates: `allocation_map` and `topology`."""
