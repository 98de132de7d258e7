"""The fulfilment core: orders, card keys, payments, refunds, suppliers.

Knows nothing of FastAPI, Telegram, the bot or the desk; they call the service functions in
`fulfilment.services`.
"""
