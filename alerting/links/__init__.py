"""One-tap links in mails: a leader acknowledges or approves from a phone.

An escalation, its reminder or an approval request gives each addressed person who may
act their own copy of the mail, carrying ``{console_url}/ack/{token}`` or
``{console_url}/approve/{token}``. A token is signed with the console's secret
(``core.secrets.web_secret``) and names one person, one incident, one action (and, for
an approval, the reply version the leader read), its expiry (``notify.link_valid_for``,
default 24 h) and a random nonce; the nonce's row in ``signed_links`` makes it usable
once. Opening a link (``grant.open``) checks all of that and what the person may do now;
using it (``grant.use``) marks the row used and performs the action through the same
action table as the CLI (``alerting.incidents.service``), so the act is in the
incident's log under that person's name, once.

- ``tokens``: signing, issuing and reading tokens;
- ``rules``: whether a person may still do a link's action (the domain's own checks);
- ``mail``: the personal copies of a message the outbox stores;
- ``grant``: opening and using a link.
"""
