"""Reading input files safely: size limits, YAML and JSON parsing, line numbers, and validation errors as problems."""
