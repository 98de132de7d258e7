"""Payment-provider adapters: `http.HttpPaymentProvider` implements
`fulfilment.ports.PaymentProvider` over the signed-form protocol (same signature and amount
conventions as the suppliers, see `fulfilment.suppliers.signing`)."""
