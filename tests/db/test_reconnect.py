"""A PostgreSQL restart costs the pipeline no failed statement.

The server ends every pooled session (``pg_terminate_backend`` from another
connection, as a restart does); the next checkout must notice from the socket and
reconnect, so neither a fresh ``session_scope`` nor a long-lived session that goes on
after a commit sees an error.
"""

from __future__ import annotations

import sqlalchemy as sa

from services.db.engine import make_engine, migrate, session_factory, session_scope
from services.pipeline.store import ensure_review
from services.protocols import Protocol
from tests.db.backends import backend_pids, tagged, terminate


def test_sessions_reconnect_after_the_server_ends_every_connection(
    postgres_url: str, postgres_server: str
) -> None:
    url, name = tagged(postgres_url)
    engine = make_engine(url)
    admin = sa.create_engine(postgres_server)
    sessions = session_factory(engine)
    protocol = Protocol(slug="restart", title="Restart", query="psilocybin")
    try:
        migrate(engine)
        held = [sessions() for _ in range(3)]  # three pooled connections, not one
        for session in held:
            session.execute(sa.text("SELECT 1"))
        for session in held:
            session.close()
        ended = terminate(admin, name)
        assert len(ended) >= 3

        with session_scope(sessions) as session:  # a pipeline step after the restart
            ensure_review(session=session, protocol=protocol)

        session = sessions()  # a long-lived session: one transaction, a restart, the next
        try:
            assert session.execute(sa.text("SELECT count(*) FROM reviews")).scalar_one() == 1
            session.commit()
            ended |= terminate(admin, name)
            assert session.execute(sa.text("SELECT slug FROM reviews")).scalar_one() == "restart"
            session.commit()
        finally:
            session.close()
        assert backend_pids(admin, name).isdisjoint(ended)
    finally:
        engine.dispose()
        admin.dispose()
