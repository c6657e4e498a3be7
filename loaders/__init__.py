"""I/O shell: file → validated rows → PostGIS in one transaction; command line in loaders.cli."""
