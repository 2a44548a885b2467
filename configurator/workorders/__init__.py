"""Work orders: the traveller of each unit, rendered to HTML then PDF."""
