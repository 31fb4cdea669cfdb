"""Host recipes: supportdesk behind Flask, FastAPI and Django, each a small runnable app."""
