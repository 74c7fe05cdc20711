"""Application logic given a database session; no HTTP here."""
