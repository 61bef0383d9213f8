"""Pulumi component resources, one per area of the launch (see DESIGN.md conventions)."""
