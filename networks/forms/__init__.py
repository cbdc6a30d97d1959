"""Forms of the portal's pages, one module per resource: `networks`, `containers`, `clusters`,
`registries`, and `fields` for what several of them share. Forms parse what people type; services
decide whether it may happen."""
