"""Management commands beside the loaders': ``python -m manage`` (accounts, kiosk links, audit)."""
