"""A send whose lead is deleted between the claim and the delivery: skipped, the batch goes on."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from sqlalchemy import delete

from formserver.core import db
from formserver.core.models import Lead
from formserver.mail import dispatch
from tests.drip.conftest import submit


def test_a_send_whose_lead_was_deleted_after_the_claim_is_skipped(app, client, smtp) -> None:
    sink, _ = smtp
    submit(client, email="gone@example.com")
    submit(client, email="kept@example.com")
    now = datetime.now(UTC)
    with app.app_context():
        s = db.session()
        claimed = dispatch.claim(s, now, limit=10)
        assert len(claimed) == 2
        # As the unconfirmed-lead purge or an erasure can, while a worker holds the claim.
        s.execute(delete(Lead).where(Lead.email == "gone@example.com"))
        s.commit()
        counts = dispatch.deliver(claimed, now, deadline=time.monotonic() + 60)
    assert (counts["sent"], counts["cancelled"]) == (1, 1)
    assert sink.to("gone@example.com") == []
    assert len(sink.to("kept@example.com")) == 1
