"""Models served by TensorFlow Serving and called from HANA: ``emlsetup model ...``.

Pure parts (SavedModel layout and signature, config.cnf text edits, tensor -> HANA column
types) are separate modules with unit tests; :mod:`steps.models.commands` puts them together.
"""
