"""Redistricting plans: validation, building from division lists, applying, and carrying open cases."""
