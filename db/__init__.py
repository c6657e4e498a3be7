"""Database layer: engine/session, typed models, scope-aware queries, Alembic migrations."""
