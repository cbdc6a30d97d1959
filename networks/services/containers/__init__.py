"""Containers on overlay networks, one module per idea: `specs` (what a run asks for), `placement`, `run`,
`lifecycle`, `state` (what Docker reports), `system` (Consul agents) and `images`."""
