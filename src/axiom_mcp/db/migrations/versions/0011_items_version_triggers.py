"""items: triggers that bump users.items_version

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29 17:00:00

The deep-page rank marks (data/marks.py) hold while the user's ``items_version`` stays put. The
database now moves it itself, in the writing transaction, whenever one of the user's items is
inserted or deleted, or changes owner or ``created`` (the list order), whoever writes: no writer
has to remember it. SQLite: row triggers. PostgreSQL: statement triggers over the transition
tables, so a bulk write moves each user's version once.
"""

from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

_BUMP = "UPDATE users SET items_version = items_version + 1 WHERE id"

_SQLITE = [
    f"CREATE TRIGGER items_version_on_insert AFTER INSERT ON items BEGIN {_BUMP} = NEW.user_id; END",
    f"CREATE TRIGGER items_version_on_delete AFTER DELETE ON items BEGIN {_BUMP} = OLD.user_id; END",
    "CREATE TRIGGER items_version_on_move AFTER UPDATE OF user_id, created ON items"
    " WHEN NEW.user_id IS NOT OLD.user_id OR NEW.created IS NOT OLD.created"
    f" BEGIN {_BUMP} IN (OLD.user_id, NEW.user_id); END",
]

_POSTGRESQL = [
    "CREATE FUNCTION items_version_on_insert() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
    f" {_BUMP} IN (SELECT user_id FROM added); RETURN NULL; END $$",
    "CREATE FUNCTION items_version_on_delete() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
    f" {_BUMP} IN (SELECT user_id FROM removed); RETURN NULL; END $$",
    "CREATE FUNCTION items_version_on_move() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
    " WITH moved AS (SELECT o.user_id AS before, n.user_id AS after FROM removed AS o JOIN added AS n"
    " ON n.id = o.id WHERE n.user_id <> o.user_id OR n.created <> o.created)"
    f" {_BUMP} IN (SELECT before FROM moved UNION SELECT after FROM moved); RETURN NULL; END $$",
    "CREATE TRIGGER items_version_on_insert AFTER INSERT ON items REFERENCING NEW TABLE AS added"
    " FOR EACH STATEMENT EXECUTE FUNCTION items_version_on_insert()",
    "CREATE TRIGGER items_version_on_delete AFTER DELETE ON items REFERENCING OLD TABLE AS removed"
    " FOR EACH STATEMENT EXECUTE FUNCTION items_version_on_delete()",
    "CREATE TRIGGER items_version_on_move AFTER UPDATE ON items REFERENCING OLD TABLE AS removed"
    " NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION items_version_on_move()",
]

_NAMES = ("items_version_on_insert", "items_version_on_delete", "items_version_on_move")


def upgrade() -> None:
    for statement in _POSTGRESQL if op.get_bind().dialect.name == "postgresql" else _SQLITE:
        op.execute(statement)


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for name in _NAMES:
        op.execute(f"DROP TRIGGER {name} ON items" if postgresql else f"DROP TRIGGER {name}")
        if postgresql:
            op.execute(f"DROP FUNCTION {name}()")
