"""nashpo: how good are off-the-shelf HPO tools at neural architecture search on NB201."""

__version__ = "0.1.0"
