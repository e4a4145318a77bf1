"""Question parsers, one module per format."""
