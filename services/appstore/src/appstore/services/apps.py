"""Publishing, changing, verifying, delisting and finding apps."""

from __future__ import annotations

import secrets
from collections.abc import Iterable

from sqlalchemy import Select, func, select, union_all
from sqlalchemy.orm import Session, undefer

from appstore import outbox
from appstore.errors import Forbidden, NotFound
from appstore.models import App, Purchase, utcnow
from appstore.security.principal import Principal
from appstore.services import search
from sqlstore import Database

PUBLIC_FIELDS = ("title", "description", "price", "icon_url")
#: Matches of a search up to which its page is sorted from the search's own matches rather
#: than found by walking the apps in id order: about where the two cost the same at 100,000
#: apps (bench/catalogue.py).
FEW_MATCHES = 1_000
#: Matches of a search counted exactly; past them (and past the page asked for) its total
#: is a lower bound, as counting every match of a common word costs as much as scanning.
EXACT_MATCHES = 1_000
#: The same for a search the apps' words cannot serve (see ``search.words_serve``).
EXACT_MATCHES_SIFTED = 200
#: More matches than any catalogue holds, and a LIMIT both databases take: the count of a
#: page asked for beyond it is exact, and its page is past the end.
MOST_MATCHES = 2**62


def create_app(db: Database, owner: Principal, fields: dict) -> App:
    """Publish an unverified app owned by the caller, with a fresh secret access key."""
    with db.transaction() as session:
        app = App(owner_id=owner.user_id, access_key=secrets.token_urlsafe(32), **fields)
        session.add(app)
        session.flush()
        outbox.record(
            session,
            "AppCreated",
            {
                "app_id": app.id,
                "owner_id": app.owner_id,
                "title": app.title,
                "price": app.price,
                "created_at": app.created_at,
            },
        )
        return _reload_for_owner(session, app.id)


def get_app(db: Database, principal: Principal, app_id: int) -> App:
    with db.reading() as session:
        app = _visible_app(session, principal, app_id)
        _mark_access(session, principal, [app])
        return app


def update_app(db: Database, principal: Principal, app_id: int, changes: dict) -> App:
    with db.transaction() as session:
        app = _visible_app(session, principal, app_id, for_update=True)
        if app.owner_id != principal.user_id:
            raise Forbidden("Only the app's owner may change it.")
        for name, value in changes.items():
            setattr(app, name, value)
        app.updated_at = utcnow()
        session.flush()
        # The access link stays out of the event: every consumer reads the stream.
        public = {k: v for k, v in changes.items() if k in PUBLIC_FIELDS}
        outbox.record(session, "AppUpdated", {"app_id": app.id, "changes": public})
        return _reload_for_owner(session, app.id)


def delete_app(db: Database, principal: Principal, app_id: int) -> None:
    """Delist an app; its buyers keep their access."""
    with db.transaction() as session:
        app = _visible_app(session, principal, app_id, for_update=True)
        if app.owner_id != principal.user_id and not principal.is_admin:
            raise Forbidden("Only the app's owner or an admin may delete it.")
        if app.deleted_at is None:
            app.deleted_at = app.updated_at = utcnow()
            outbox.record(
                session,
                "AppDeleted",
                {"app_id": app.id, "deleted_by": principal.user_id, "deleted_at": app.deleted_at},
            )


def verify_app(db: Database, principal: Principal, app_id: int) -> App:
    with db.transaction() as session:
        app = _visible_app(session, principal, app_id, for_update=True)
        if not app.verified:
            app.verified = True
            app.updated_at = utcnow()
            session.flush()
            outbox.record(
                session,
                "AppVerified",
                {"app_id": app.id, "verified_by": principal.user_id, "verified_at": app.updated_at},
            )
        return _reload_for_owner(session, app.id)


def list_apps(
    db: Database,
    principal: Principal,
    *,
    q: str | None,
    verified: bool | None,
    mine: bool,
    page: int,
    page_size: int,
    exact_up_to: int | None = None,
) -> tuple[list[App], int, bool]:
    """The catalogue, the caller's own apps (``mine``), or for admins the unverified queue.

    Returns:
        The page's apps, the total, and whether the total is exact. A search counts its
        matches up to ``exact_up_to`` (``EXACT_MATCHES`` by default) or to the end of the
        page asked for, whichever is further; past that the total is a lower bound (the
        matches counted, one more than the limit) and not exact. A listing without ``q`` is
        always counted exactly.
    """
    if verified is False and not principal.is_admin and not mine:
        raise Forbidden("Only admins may list unverified apps of others.")
    listed = [App.deleted_at.is_(None)]
    if mine:
        listed.append(App.owner_id == principal.user_id)
        if verified is not None:
            listed.append(App.verified.is_(verified))
    else:
        listed.append(App.verified.is_(verified is not False))
    with db.reading() as session:
        if q:
            return _search(session, principal, listed, q.lower(), page, page_size, exact_up_to)
        total = session.scalar(_count(select(App.id).where(*listed)))
        if (page - 1) * page_size >= total:
            return [], total, True
        query = select(App).where(*listed).offset((page - 1) * page_size).limit(page_size)
        apps = session.scalars(_with_counts(query.order_by(App.id))).all()
        _mark_access(session, principal, apps)
    return list(apps), total, True


def _search(
    session: Session,
    principal: Principal,
    listed: list,
    pattern: str,
    page: int,
    page_size: int,
    exact_up_to: int | None,
) -> tuple[list[App], int, bool]:
    """A search's page of apps, its total, and whether the total is exact.

    One statement finds the matches up to the count's limit once, counts them, takes the
    page from them or from a walk, and returns the page's apps with the total and whether
    the caller bought each: a round trip and a second search less than asking for each.
    """
    columns = select(App.id, App.title, App.description).where(*listed)
    cap = EXACT_MATCHES if exact_up_to is None else exact_up_to
    if search.words_serve(session, pattern):
        # OFFSET 0 keeps the LIKE out of the subquery: PostgreSQL would otherwise AND the
        # trigram indexes into the word index's bitmap and recheck every app's words.
        matches = columns.where(search.word_candidates(pattern)).offset(0).subquery()
    else:
        # The trigram indexes (or a scan) give candidates that LIKE then sifts, often many
        # for each match: such a search counts fewer exactly.
        matches = columns.subquery()
        cap = min(cap, EXACT_MATCHES_SIFTED)
    # Counting every match of a word most apps contain reads them all; counting to where
    # the caller pages stops early, and still tells whether a next page is.
    limit = min(max(cap, page * page_size), MOST_MATCHES)
    found = (
        select(matches.c.id)
        .where(search.contains(matches.c, pattern))
        .limit(limit + 1)
        .cte("found")
    )
    total = select(func.count()).select_from(found).scalar_subquery()
    offset = (page - 1) * page_size
    if offset >= MOST_MATCHES:  # past the end of any catalogue, and beyond what OFFSET takes
        return [], session.scalar(select(total)), True
    # Walking the apps in id order until a page of matches turns up reads most of them when
    # matches are few, and the planner, which cannot know how few, often takes that walk.
    # When the count holds every match and they are few, the page is sorted from them
    # (``id + 0`` orders alike but is not the key's order); else many match, and the page
    # is found by walking rather than by sorting every match. Only one of the two runs:
    # their conditions depend on nothing but the count.
    sorted_few = total <= min(limit, FEW_MATCHES)
    few = select(found.c.id).where(sorted_few).order_by(found.c.id + 0)
    # ORDER BY fenced in by OFFSET 0 makes PostgreSQL walk, where the planner, thinking
    # LIKE selective, would rather gather every match from the trigram indexes and sort.
    walked = columns.order_by(App.id).offset(0).subquery()
    many = select(walked.c.id).where(~sorted_few, search.contains(walked.c, pattern))
    many = many.order_by(walked.c.id)
    pages = union_all(
        few.offset(offset).limit(page_size).subquery().select(),
        many.offset(offset).limit(page_size).subquery().select(),
    ).subquery()
    query = select(App, total, _bought(principal)).join(pages, App.id == pages.c.id)
    rows = session.execute(_with_counts(query.order_by(App.id))).all()
    if rows:
        counted = rows[0][1]
    elif page == 1:  # no match at all
        counted = 0
    else:  # past the end: the page says nothing of the total
        counted = session.scalar(select(total))
    apps = [_marked(principal, app, bought) for app, _, bought in rows]
    return apps, counted, counted <= limit


def _bought(principal: Principal):
    """Whether the caller bought the app: a column of the apps' own statement."""
    return (
        select(Purchase.app_id)
        .where(Purchase.buyer_id == principal.user_id, Purchase.app_id == App.id)
        .exists()
    )


def _marked(principal: Principal, app: App, bought: bool) -> App:
    """Let owners, admins and buyers see the app's access link and key."""
    app.can_access = bought or principal.is_admin or app.owner_id == principal.user_id
    return app


def _count(query: Select) -> Select:
    return select(func.count()).select_from(query.subquery())


def _with_counts(query: Select) -> Select:
    return query.options(undefer(App.purchases_count))


def _reload_for_owner(session: Session, app_id: int) -> App:
    """The app as its owner or an admin sees it, with its purchase count."""
    app = session.scalar(
        _with_counts(select(App).where(App.id == app_id)).execution_options(populate_existing=True)
    )
    app.can_access = True
    return app


def _visible_app(session: Session, principal: Principal, app_id: int, for_update=False) -> App:
    """The app, unless the caller may not know it exists (unverified or delisted)."""
    # A row lock cannot share a SELECT with the count aggregate, so locked reads skip it.
    query = select(App).where(App.id == app_id)
    query = query.with_for_update() if for_update else _with_counts(query)
    app = session.scalar(query)
    if app is None or not (
        app.is_listed or principal.is_admin or app.owner_id == principal.user_id
    ):
        raise NotFound(f"App {app_id} does not exist.")
    return app


def _mark_access(session: Session, principal: Principal, apps: Iterable[App]) -> None:
    """Let owners, admins and buyers see each app's access link and key."""
    apps = list(apps)
    others = [a.id for a in apps if a.owner_id != principal.user_id and not principal.is_admin]
    bought = set()
    if others:
        bought = set(
            session.scalars(
                select(Purchase.app_id).where(
                    Purchase.buyer_id == principal.user_id, Purchase.app_id.in_(others)
                )
            )
        )
    for app in apps:
        app.can_access = app.id not in others or app.id in bought
