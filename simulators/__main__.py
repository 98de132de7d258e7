"""`python -m simulators`: run the supplier simulator and the payment sandbox until Ctrl-C."""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from simulators import DEMO_SUPPLIERS
from simulators.launcher import start_simulators


def main(argv: list[str] | None = None) -> None:
    """Parse arguments, start both simulators, wait."""
    parser = argparse.ArgumentParser(prog="python -m simulators", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--supplier-port", type=int, default=8001)
    parser.add_argument("--payment-port", type=int, default=8002)
    parser.add_argument("--payment-merchant", default="kamidesk-demo")
    parser.add_argument("--payment-secret", default="change-me")
    args = parser.parse_args(argv)
    sims = start_simulators(
        payment_merchants={args.payment_merchant: args.payment_secret},
        host=args.host,
        supplier_port=args.supplier_port,
        payment_port=args.payment_port,
    )
    print(f"supplier simulator  {sims.supplier.base_url}  (admin: /admin/..., docs: /docs)")
    for config in DEMO_SUPPLIERS:
        merchants = ", ".join(config.merchants)
        print(f"  {sims.supplier.base_url}/s/{config.code}  merchant(s): {merchants}")
    print(f"payment sandbox     {sims.payment.base_url}  merchant: {args.payment_merchant}")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        sims.stop()


if __name__ == "__main__":
    main()
