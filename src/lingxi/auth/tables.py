"""Operational-store tables of access control and the audit log (migration 0002), on the shared `Base`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from lingxi.store.tables import Base


class User(Base):
    """A member of the bank's staff (or a service account) who signs in to Lingxi."""

    __tablename__ = "lx_user"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)  # lower-case
    display_name: Mapped[str] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(32))
    branch_id: Mapped[str | None] = mapped_column(String(64), nullable=True)  # None: head office
    book_only: Mapped[bool] = mapped_column(Boolean, default=False)  # sees only assigned customers
    status: Mapped[str] = mapped_column(String(16), default="active")  # active, disabled
    password_hash: Mapped[str] = mapped_column(String(255))
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    lock_level: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    password_changed_at: Mapped[datetime] = mapped_column(DateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class UserCustomer(Base):
    """A customer assigned to a user's book (remote RMs, and branch RMs limited to their book)."""

    __tablename__ = "lx_user_customer"

    user_id: Mapped[int] = mapped_column(ForeignKey("lx_user.id", ondelete="CASCADE"), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(64), primary_key=True)


class UserSession(Base):
    """A console sign-in. Only the SHA-256 of the session secret is stored (ASVS 3.2, 7.1.1)."""

    __tablename__ = "lx_session"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 hex of the secret
    user_id: Mapped[int] = mapped_column(ForeignKey("lx_user.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    end_reason: Mapped[str | None] = mapped_column(String(32), nullable=True)


class ApiToken(Base):
    """A bearer token for a machine client, acting for a user with a subset of the user's permissions."""

    __tablename__ = "lx_api_token"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # public id, used to revoke
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 hex of the secret
    user_id: Mapped[int] = mapped_column(ForeignKey("lx_user.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(128))
    scopes: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class AuditEntry(Base):
    """One audit event, chained to the previous one by `entry_hash = sha256(prev_hash + canonical JSON)`.

    Append-only: database triggers refuse UPDATE and DELETE, and the hash chain shows any change made
    around them (see lingxi.auth.audit).
    """

    __tablename__ = "lx_audit"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(DateTime, index=True)  # UTC
    actor: Mapped[str] = mapped_column(String(128), index=True)
    role: Mapped[str | None] = mapped_column(String(32), nullable=True)
    branch_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    action: Mapped[str] = mapped_column(String(32), index=True)
    target: Mapped[str | None] = mapped_column(String(256), nullable=True, index=True)
    fields: Mapped[list[str]] = mapped_column(JSON)
    reason: Mapped[str | None] = mapped_column(String(512), nullable=True)
    result: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str | None] = mapped_column(String(1024), nullable=True)
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64))
    key_id: Mapped[str | None] = mapped_column(String(16), nullable=True)  # audit key of the HMAC (None: SHA-256)


class AuditHead(Base):
    """The one row that holds the chain's last sequence number and hash; appends lock it to serialise."""

    __tablename__ = "lx_audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)  # always 1
    seq: Mapped[int] = mapped_column(BigInteger)
    last_hash: Mapped[str] = mapped_column(String(64))
