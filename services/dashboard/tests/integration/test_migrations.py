"""The migrations build exactly the tables the models describe, with their seed rows."""

from __future__ import annotations

import subprocess
import sys

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from click.testing import CliRunner
from sqlalchemy import create_engine, inspect, select

from dashboard.cli import main
from dashboard.models import TOTALS, Base, FoldProgress, Total

UPGRADE = "import sys; from dashboard.migrations import upgrade; upgrade(sys.argv[1])"


def test_the_migrated_schema_matches_the_models(db):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)

    assert differences == []


def test_the_migration_seeds_every_total_and_the_progress_row(db):
    with db.reading() as session:
        totals = dict(session.execute(select(Total.name, Total.value)).all())
        progress = session.execute(select(FoldProgress)).scalars().all()

    assert totals == dict.fromkeys(TOTALS, 0)
    assert [(p.name, p.contiguous_through, p.last_sequence) for p in progress] == [("events", 0, 0)]


def test_db_upgrade_creates_the_embedded_database_and_can_run_again(tmp_path, monkeypatch):
    path = tmp_path / ".data" / "dashboard.db"
    monkeypatch.setenv("DASHBOARD_DATABASE_URL", f"sqlite:///{path}")
    runner = CliRunner()

    first = runner.invoke(main, ["db", "upgrade"])
    again = runner.invoke(main, ["db", "upgrade"])

    assert first.exit_code == 0, first.output
    assert again.exit_code == 0, again.output
    assert "is at head" in first.output
    engine = create_engine(f"sqlite:///{path}")
    try:
        tables = set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert tables >= {table.name for table in Base.metadata.sorted_tables}


def test_two_processes_upgrading_a_new_database_at_once_both_succeed(empty_postgres_url):
    # Processes, not threads: Alembic keeps its migration context in module globals.
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", UPGRADE, empty_postgres_url], stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    outcomes = [(run.communicate(timeout=60)[1], run.returncode) for run in runs]

    assert outcomes == [("", 0), ("", 0)]
    engine = create_engine(empty_postgres_url)
    try:
        with engine.connect() as connection:
            totals = connection.execute(select(Total.name)).scalars().all()
    finally:
        engine.dispose()
    assert sorted(totals) == sorted(TOTALS)
