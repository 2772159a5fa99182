"""Tests of lip_toolkit.core (a package, so test module names cannot clash with those of the tracks)."""
