"""Templates of `emlsetup export ansible` (package data)."""
