"""Registered swarms, one module per idea: connect, credentials, registration, rotation, health,
merge and state_store."""
