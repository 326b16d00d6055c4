"""The catalogue's words: a search for a word finds exactly the apps that hold it

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06

On PostgreSQL each app's words (its lower-cased title and description cut at every character
other than a-z and 0-9) are indexed (GIN), and ``catalogue_vocabulary`` holds every word
any app ever had, with a trigram index, kept by triggers on ``apps``. A search for letters
and digits alone looks up the words containing it, then the apps holding one of them: the
apps that contain the search, and no others, where the trigram indexes of 0005 give every
app holding the search's three-letter pieces anywhere, often many times more. SQLite gets
the table, empty: its search scans.
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# Written out rather than imported: a migration keeps meaning what it meant.
# Words longer than a b-tree or GIN entry may comfortably hold stand as '*': the search
# treats every app holding one as a candidate and checks it with LIKE.
WORDS_FUNCTION = """
CREATE FUNCTION catalogue_words(title text, description text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
    SELECT coalesce(array_agg(DISTINCT CASE WHEN length(w) > 100 THEN '*' ELSE w END), '{}')
    FROM unnest(regexp_split_to_array(lower(title || ' ' || description), '[^a-z0-9]+')) AS w
    WHERE w <> ''
$$
"""
# In sorted order, so that two transactions adding the same new words wait for each other
# rather than deadlock.
ADD_WORDS = """
CREATE FUNCTION catalogue_vocabulary_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_LEVEL = 'ROW' THEN
        INSERT INTO catalogue_vocabulary (word)
        SELECT w FROM unnest(catalogue_words(NEW.title, NEW.description)) AS w
        WHERE w <> '*' ORDER BY w
        ON CONFLICT DO NOTHING;
    ELSE
        INSERT INTO catalogue_vocabulary (word)
        SELECT DISTINCT w FROM added, unnest(catalogue_words(added.title, added.description)) AS w
        WHERE w <> '*' ORDER BY w
        ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END
$$
"""
TRIGGERS = (
    # Once per statement: a COPY or a bulk INSERT adds its words in one go.
    "CREATE TRIGGER apps_vocabulary_insert AFTER INSERT ON apps"
    " REFERENCING NEW TABLE AS added FOR EACH STATEMENT"
    " EXECUTE FUNCTION catalogue_vocabulary_add()",
    # Only when the text changes: verifying, delisting and settling update apps often.
    "CREATE TRIGGER apps_vocabulary_update AFTER UPDATE OF title, description ON apps"
    " FOR EACH ROW WHEN (OLD.title IS DISTINCT FROM NEW.title"
    " OR OLD.description IS DISTINCT FROM NEW.description)"
    " EXECUTE FUNCTION catalogue_vocabulary_add()",
)


def upgrade() -> None:
    op.create_table(
        "catalogue_vocabulary",
        sa.Column("word", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("word", name=op.f("pk_catalogue_vocabulary")),
    )
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(WORDS_FUNCTION)
    op.execute(ADD_WORDS)
    op.execute(
        "INSERT INTO catalogue_vocabulary (word) SELECT DISTINCT w FROM apps,"
        " unnest(catalogue_words(title, description)) AS w WHERE w <> '*'"
    )
    op.create_index(
        "ix_catalogue_vocabulary_trgm",
        "catalogue_vocabulary",
        [sa.text("word gin_trgm_ops")],
        postgresql_using="gin",
    )
    op.create_index(
        "ix_apps_catalogue_words",
        "apps",
        [sa.text("catalogue_words(title, description)")],
        postgresql_using="gin",
    )
    for trigger in TRIGGERS:
        op.execute(trigger)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER apps_vocabulary_update ON apps")
        op.execute("DROP TRIGGER apps_vocabulary_insert ON apps")
        op.drop_index("ix_apps_catalogue_words", table_name="apps")
        op.execute("DROP FUNCTION catalogue_vocabulary_add()")
        op.execute("DROP FUNCTION catalogue_words(text, text)")
    op.drop_table("catalogue_vocabulary")
