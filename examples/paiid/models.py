"""The PaiiD backend's SQLAlchemy model of `users` (backend/app/models/database.py in seed 002),
as the schema the database should have. shale reads it through SQLAlchemy's own DDL compiler:

    shale diff --from migrations --to 'exec:python -m shale.sqlalchemy models:Base'

`default=` is a value SQLAlchemy fills in on INSERT; the database only knows `server_default=`,
so both are given where rows are also written without SQLAlchemy (psql, other services).
"""

from sqlalchemy import Boolean, Column, Integer, String, text
from sqlalchemy.orm import declarative_base

Base = declarative_base()


class User(Base):
    __tablename__ = "users"

    id = Column(Integer, primary_key=True, index=True)
    email = Column(String(255), unique=True, index=True, nullable=False)
    # The fix of seed 002: users created for the MVP have no password yet.
    password_hash = Column(String(255), nullable=True)
    full_name = Column(String(255), nullable=True)
    username = Column(String(255), nullable=True)  # added for compatibility

    # Role-based access control
    role = Column(String(50), default="personal_only", server_default="personal_only", nullable=False, index=True)
    is_active = Column(Boolean, default=True, server_default=text("true"), nullable=False, index=True)
