"""Alembic environment: the connection comes from axiom_mcp.db.migrate (never from a URL in a file)."""

from alembic import context

from axiom_mcp.db.tables import Base, modelled

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - offline mode is not used
    raise RuntimeError("run migrations through `axiom migrate`")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
    include_object=modelled,
)
with context.begin_transaction():
    context.run_migrations()
