"""The web console (FastAPI + Jinja2). ``onetap`` serves the one-tap links of mails."""
