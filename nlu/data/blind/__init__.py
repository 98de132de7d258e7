"""Packaged data (so setuptools ships the YAML files with the nlu package)."""
