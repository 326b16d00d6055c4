"""Registration, sign-in, credit and roles."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from appstore import outbox
from appstore.errors import Conflict, Forbidden, NotFound, Unauthorized
from appstore.models import CreditGrant, User
from appstore.security.passwords import Passwords
from appstore.security.principal import Principal
from sqlstore import Database

BAD_CREDENTIALS = "Invalid username or password."


def register(
    db: Database,
    passwords: Passwords,
    username: str,
    email: str,
    password: str,
    role="user",
    initial_credit: int = 0,
) -> User:
    """Create a user, with no credit or, in the same transaction, ``initial_credit``
    granted by the new account itself (how operators start an account from the CLI).

    Raises:
        Conflict: the username is taken (compared case-insensitively).
    """
    # Hashing is slow on purpose; do it before the transaction so no connection waits on it.
    password_hash = passwords.hash(password)
    try:
        with db.transaction() as session:
            taken = session.scalar(select(User.id).where(_same_username(username)))
            if taken is not None:
                raise Conflict(f"Username {username!r} is already taken.")
            user = User(username=username, email=email, password_hash=password_hash, role=role)
            session.add(user)
            session.flush()
            outbox.record(
                session,
                "UserRegistered",
                {
                    "user_id": user.id,
                    "username": user.username,
                    "role": user.role,
                    "registered_at": user.created_at,
                },
            )
            if initial_credit:
                _grant(session, user.id, user.id, initial_credit, "initial credit")
            # The balance is a SQL expression, not a stored value: read it before returning.
            session.refresh(user)
            return user
    except IntegrityError as error:  # lost a race with a concurrent registration
        raise Conflict(f"Username {username!r} is already taken.") from error


def authenticate(db: Database, passwords: Passwords, username: str, password: str) -> User:
    """Return the user these credentials belong to.

    Raises:
        Unauthorized: unknown user or wrong password, with one message for both.
    """
    with db.reading() as session:
        user = session.scalar(select(User).where(_same_username(username)))
    if not passwords.verify(user.password_hash if user else None, password):
        raise Unauthorized(BAD_CREDENTIALS)
    return user


def get_user(db: Database, principal: Principal, user_id: int) -> User:
    if not principal.reads_all and principal.user_id != user_id:
        raise Forbidden("You may only read your own account.")
    with db.reading() as session:
        user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"User {user_id} does not exist.")
    return user


def list_users(db: Database, page: int, page_size: int) -> tuple[list[User], int]:
    with db.reading() as session:
        total = session.scalar(select(func.count(User.id)))
        if (page - 1) * page_size >= total:  # past the end; a huge page never reaches SQL
            return [], total
        users = session.scalars(
            select(User).order_by(User.id).offset((page - 1) * page_size).limit(page_size)
        ).all()
    return list(users), total


def grant_credit(
    db: Database, admin: Principal, user_id: int, amount: int, note: str | None = None
) -> User:
    """Add ``amount`` credits to a user's balance and record the grant in the ledger."""
    with db.transaction() as session:
        _grant(session, admin.user_id, user_id, amount, note)
        return session.get(User, user_id, populate_existing=True)


def _grant(session, granted_by: int, user_id: int, amount: int, note: str | None) -> None:
    granted = session.scalar(
        update(User)
        .where(User.id == user_id)
        .values({User.settled_credit: User.settled_credit + amount})
        .returning(User.id)
    )
    if granted is None:
        raise NotFound(f"User {user_id} does not exist.")
    grant = CreditGrant(user_id=user_id, amount=amount, granted_by=granted_by, note=note)
    session.add(grant)
    session.flush()
    outbox.record(
        session,
        "CreditGranted",
        {
            "user_id": user_id,
            "amount": amount,
            "granted_by": granted_by,
            "granted_at": grant.created_at,
        },
    )


def set_role(db: Database, user_id: int, role: str) -> User:
    with db.transaction() as session:
        user = session.get(User, user_id, with_for_update=True)
        if user is None:
            raise NotFound(f"User {user_id} does not exist.")
        user.role = role
        session.flush()
        # The flush expired the balance (a SQL expression); read it in this transaction.
        session.refresh(user, ["credit"])
        return user


def _same_username(username: str):
    return func.lower(User.username) == username.lower()
