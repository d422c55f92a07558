"""The Azure backend: the official SDK behind the Backend protocol."""
