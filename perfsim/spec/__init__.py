"""Input descriptions: hardware profiles, model descriptions and how a model is run (Execution).

Pydantic at the YAML boundary, frozen inside; nothing here prices anything.
"""
