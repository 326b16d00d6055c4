"""CPU instructions per purchase in one process, counted by valgrind's callgrind.

Wall time on a shared machine moves with everything else on it; an instruction count does
not. :mod:`purchase_inprocess` buys apps through the Flask test client (token check,
validation, the purchase's statements, the event, serialisation, logging and metrics, all
as served, without the HTTP server) under callgrind, which counts only while the measured
purchases run (after seeding and a warm-up): their instructions divided by their number are
one purchase's. The database server's own work is not counted (it is another process),
except SQLite's, which runs inside.

With ``--against REF`` the same is counted for a git revision checked out beside this one
(see :mod:`ref_tree`), and the ratio is printed. The signing key is one fixed file for every
run, so no run counts generating an RSA key.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from contextlib import ExitStack, contextmanager
from pathlib import Path

from ref_tree import ROOT, checked_out, describe, environment

from appstore.security.keys import write_private_key as write_key
from sqlstore.testing import postgres_server, throwaway_database

HERE = Path(__file__).resolve().parent
TOTALS = re.compile(r"^totals: (\d+)", re.MULTILINE)


@contextmanager
def empty_database(backend: str, admin_url: str | None, scratch: Path):
    if backend == "sqlite":
        yield f"sqlite:///{tempfile.mkdtemp(dir=scratch)}/appstore.db"
        return
    with throwaway_database(admin_url, "appstore_instructions") as url:
        yield url


def count(tree: Path, database_url: str, key: Path, purchases: int, warmup: int) -> int:
    """Instructions of one run of :mod:`purchase_inprocess` on ``tree``'s code."""
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "callgrind.out"
        command = ["valgrind", "--tool=callgrind", "--instr-atstart=no"]
        command += [f"--callgrind-out-file={out}"]
        command += [sys.executable, str(HERE / "purchase_inprocess.py")]
        command += ["--database-url", database_url, "--key-file", str(key)]
        command += ["--warmup", str(warmup), "--purchases", str(purchases), "--callgrind"]
        env = {**environment(tree), "PYTHONHASHSEED": "0"}
        done = subprocess.run(command, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
        result = json.loads(done.stdout.strip().splitlines()[-1])
        if result["created"] != purchases:
            raise SystemExit(f"only {result['created']} of {purchases} purchases went through")
        return int(TOTALS.search(out.read_text()).group(1))


def per_purchase(tree: Path, args, admin_url: str | None, key: Path, scratch: Path) -> float:
    with empty_database(args.backend, admin_url, scratch) as url:
        return count(tree, url, key, args.purchases, args.warmup) / args.purchases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--purchases", type=int, default=200, help="purchases counted")
    parser.add_argument("--warmup", type=int, default=20, help="purchases before, in both runs")
    parser.add_argument("--against", metavar="REF", help="a git revision to count beside")
    args = parser.parse_args()

    results = {}
    with ExitStack() as stack:
        scratch = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        key = scratch / "key.pem"
        write_key(key)
        admin_url = stack.enter_context(postgres_server()) if args.backend == "postgres" else None
        trees = {f"this tree ({describe()})": ROOT}
        if args.against:
            trees[f"{args.against} ({describe(args.against)})"] = stack.enter_context(
                checked_out(args.against)
            )
        for name, tree in trees.items():
            print(f"counting {name} on {args.backend} ...", file=sys.stderr, flush=True)
            results[name] = round(per_purchase(tree, args, admin_url, key, scratch))
    report = {"backend": args.backend, "purchases": args.purchases, "per_purchase": results}
    if args.against:
        ours, theirs = results.values()
        report["fewer_than_against"] = round(1 - ours / theirs, 3)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    os.chdir(ROOT)
    main()
