"""Models served by TensorFlow Serving and called from HANA: ``emlsetup model ...``.

Pure parts (the SavedModel messages and their reading, config.cnf text edits, tensors ->
SAP's EML table layout, the SQL text) are modules with unit tests on files real TensorFlow
wrote; commands.py is what every command stands on, adding.py, lifecycle.py and
sql_script.py are the commands.
"""
