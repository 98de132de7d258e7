"""Use cases of the fulfilment core, one module per area. Every function is keyword-only and
takes a `UnitOfWork`; each returns a plain outcome value that the bot, the desk and the HTTP API
render."""
