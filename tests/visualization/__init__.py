"""Tests of lip_toolkit.visualization (a package, so test module names cannot clash with other folders)."""
