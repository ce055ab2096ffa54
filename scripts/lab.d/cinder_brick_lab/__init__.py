"""Lab-only Cinder code that scripts/lab puts on cinder-volume's PYTHONPATH."""
