"""Incident tickets that follow the college's response plan.

``intake`` places a matched post in a ticket (the pipeline calls it inside its
transaction); ``tick`` runs the timers once a minute (deadlines, escalation, growth,
tracking). See docs/incidents.md for the lifecycle in plain words.
"""

from alerting.incidents.intake import intake
from alerting.incidents.tick import tick

__all__ = ["intake", "tick"]
