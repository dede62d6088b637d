"""A user's optimizer package, for the plug-in tests (not part of nashpo)."""
