"""What every notification says, one module per family of messages.

incident.py (the alert of a new incident and its follow-ups), escalation.py (reports
level by level), reminder.py (unacknowledged reports, overdue items, proposals to
close), secondary.py (secondary crises), source_health.py (a source down, recovered),
daemon.py (a broken edit of sentinel.yaml kept out), digest.py (the digest). notice.py
is the shape they share; views.py what they show of incidents and posts; masking.py and text.py clean what was crawled; templates/ and
render.py turn a message into HTML and text.

A family's functions are pure: they take records already loaded and plain values and
return a ``MessageSpec`` (key, kind, groups, subject, template, context); they never
touch the database. ``alerting.notify.outbox.Outbox.queue`` renders and stores them.
"""
