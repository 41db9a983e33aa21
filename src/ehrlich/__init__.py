"""ehrlich: collect and use customer and lead data honestly."""

__version__ = "0.1.0"
