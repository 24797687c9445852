"""Mail: scheduling, dispatch, composing and rendering emails, the SMTP transport."""
