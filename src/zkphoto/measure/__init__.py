"""Pure measurement functions on bytes and arrays (no verdicts, no spec knowledge)."""
