"""One process buying apps through the Flask test client: the unit that
``bench/purchase_instructions.py`` counts instructions of.

Run alone it seeds a database, makes ``--warmup`` purchases (statement caches, first-call
imports), then ``--purchases`` more, and prints how many answered 201 as JSON. It uses only
what every revision of the Appstore has (settings, bootstrap, the service layer for seeding,
``create_app``), so the same file drives the code of another git ref on PYTHONPATH.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import tempfile
from pathlib import Path

from purchases_side import seed

from appstore.app import create_app
from appstore.bootstrap import bootstrap
from appstore.config import Settings
from appstore.migrations import upgrade


def buy(client, tokens: list[str], app_ids: list[int], start: int, count: int) -> int:
    """Make purchases ``start`` .. ``start + count`` (distinct pairs); return how many got 201."""
    created = 0
    headers = [{"Authorization": f"Bearer {token}"} for token in tokens]
    for n in range(start, start + count):
        buyer, app = n % len(tokens), n // len(tokens)
        answer = client.post(f"/api/v1/apps/{app_ids[app]}/purchase", headers=headers[buyer])
        created += answer.status_code == 201
    return created


def callgrind(switch: str) -> None:
    """Turn callgrind's counting ``on`` or ``off`` in this process (started with
    ``--instr-atstart=no``); each switch costs about 0.6 million instructions."""
    command = ["callgrind_control", "--instr", switch, str(os.getpid())]
    subprocess.run(command, check=True, capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True, help="an empty database")
    parser.add_argument("--key-file", required=True, help="the JWT signing key (PEM)")
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--purchases", type=int, default=100)
    parser.add_argument(
        "--callgrind", action="store_true", help="count only the purchases after the warm-up"
    )
    args = parser.parse_args()

    upgrade(args.database_url)
    settings = Settings(
        database_url=args.database_url,
        data_dir=Path(tempfile.mkdtemp(prefix="appstore-instructions-")),
        jwt_private_key_file=Path(args.key_file),
        password_profile="cheapest",
    )
    parts = bootstrap(settings)
    buyers = 8
    needed = -(-(args.warmup + args.purchases) // buyers)
    tokens, app_ids = seed(parts, buyers=buyers, owners=1, apps_each=needed)
    # As served: every log record is formatted, access lines included.
    from servicekit import logs

    logs.configure("appstore-api", "INFO")
    logging.getLogger().handlers[0].setStream(open("/dev/null", "w"))  # noqa: SIM115
    client = create_app(components=parts).test_client()
    buy(client, tokens, app_ids, 0, args.warmup)
    if args.callgrind:
        callgrind("on")
    created = buy(client, tokens, app_ids, args.warmup, args.purchases)
    if args.callgrind:
        callgrind("off")
    parts.db.dispose()
    print(json.dumps({"purchases": args.purchases, "created": created}))


if __name__ == "__main__":
    main()
