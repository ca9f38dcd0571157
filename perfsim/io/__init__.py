"""Front doors: YAML catalogues, the public loaders, variant files and Hugging Face import.

Ids and paths are resolved here and nowhere deeper: everything below takes specs.
"""
