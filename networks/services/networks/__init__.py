"""Overlay networks, one module per action: `rules` (what every change checks), `create`, `remove`,
`attach` (connect and disconnect) and `inspect`. Requests validate, record and enqueue; runs are done by
workers."""
