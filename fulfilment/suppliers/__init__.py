"""Supplier adapters: the HTTP client for the common signed-form supplier protocol.

- `signing`: the MD5 / HMAC-SHA256 signature over sorted parameters;
- `amounts`: integer cents <-> "10.00" on the wire;
- `transport`: one signed POST with every failure turned into a readable `Answer`;
- `http`: `HttpSupplierClient` (implements `fulfilment.ports.SupplierClient`);
- `directory`: `StaticSupplierDirectory` (implements `fulfilment.ports.SupplierDirectory`).
"""
