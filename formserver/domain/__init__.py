"""Domain: what happens to leads (capture, enrolment, events, tags, scoring, privacy, webhooks)."""
