"""What ``bench/purchases.py`` runs inside one revision's code: seeding a database and checking
it after the load. It runs as a subprocess with that revision's packages on PYTHONPATH, so
each side of a side-by-side run migrates, seeds and checks with its own code.

``seed`` migrates the database at URL, registers 64 buyers (the load's connections) and the
apps of ``--owners`` developers, writes the buyers' tokens and the app ids to files in
``--out`` and prints the total credit as JSON. ``check`` prints the invariants' inputs.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from sqlalchemy import func, select

from appstore.bootstrap import bootstrap
from appstore.config import Settings
from appstore.migrations import upgrade
from appstore.models import Purchase, User
from appstore.security.principal import Principal
from appstore.services import apps, users

PRICE = 3


def seed(parts, buyers: int, owners: int, apps_each: int) -> tuple[list[str], list[int]]:
    """Buyers with credit for every app, and verified apps of ``owners`` developers."""
    admin = users.register(parts.db, parts.passwords, "admin", "a@bench.test", "x" * 12)
    admin_principal = Principal(admin.id, admin.username, "admin")
    app_ids = []
    for o in range(owners):
        owner = users.register(parts.db, parts.passwords, f"dev{o}", f"d{o}@bench.test", "x" * 12)
        principal = Principal(owner.id, owner.username, "user")
        for a in range(apps_each):
            fields = {
                "title": f"App {o}-{a}",
                "description": "Benchmark app.",
                "price": PRICE,
                "access_link": "https://bench.test/app",
            }
            created = apps.create_app(parts.db, principal, fields)
            apps.verify_app(parts.db, admin_principal, created.id)
            app_ids.append(created.id)
    tokens = []
    for b in range(buyers):
        buyer = users.register(parts.db, parts.passwords, f"buyer{b}", f"b{b}@bench.test", "x" * 12)
        users.grant_credit(parts.db, admin_principal, buyer.id, PRICE * len(app_ids))
        tokens.append(parts.tokens.issue(buyer.id, buyer.username, "user"))
    return tokens, app_ids


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=("seed", "check"))
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--data-dir", required=True, type=Path, help="the server's data dir")
    parser.add_argument("--buyers", type=int, default=64)
    parser.add_argument("--owners", type=int, default=64)
    parser.add_argument("--apps", type=int, default=1024, help="apps in all")
    args = parser.parse_args()

    if args.action == "seed":
        upgrade(args.database_url)
    settings = Settings(
        database_url=args.database_url, data_dir=args.data_dir, password_profile="cheapest"
    )
    parts = bootstrap(settings)
    if args.action == "seed":
        tokens, app_ids = seed(parts, args.buyers, args.owners, args.apps // args.owners)
        (args.data_dir / "tokens").write_text("\n".join(tokens) + "\n")
        (args.data_dir / "apps").write_text("\n".join(map(str, app_ids)) + "\n")
    with parts.db.transaction() as session:
        found = {  # sums are decimals on PostgreSQL
            "credit": session.scalar(select(func.sum(User.credit))),
            "lowest_balance": session.scalar(select(func.min(User.credit))),
            "purchases": session.scalar(select(func.count(Purchase.id))),
            "wrong_price_rows": session.scalar(
                select(func.count(Purchase.id)).where(Purchase.price != PRICE)
            ),
        }
    parts.db.dispose()
    print(json.dumps({name: int(value or 0) for name, value in found.items()}))


if __name__ == "__main__":
    main()
