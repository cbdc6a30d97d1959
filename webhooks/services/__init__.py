"""The only code that changes webhook state: endpoints (endpoints.py), the outbox written beside each
change (outbox.py) and the relay that sends it (relay.py)."""
