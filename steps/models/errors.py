"""The model commands' one-sentence failure (exit 1), shared by every module of them."""


class ModelError(Exception):
    """One sentence with the fix; exit 1."""
