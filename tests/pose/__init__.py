"""Tests of lip_toolkit.pose (a package, so helpers can be shared and names cannot clash with tests/parsing)."""
