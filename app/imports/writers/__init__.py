"""Question writers, one module per export format; each reads back through its parser unchanged."""
