"""Storage: the only package with SQL in it (SQLAlchemy Core, portable to PostgreSQL)."""
