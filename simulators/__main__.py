"""`python -m simulators`: run the supplier simulator and the payment sandbox until Ctrl-C.

    python -m simulators [--supplier-port 8001] [--payment-port 8002]
    python -m simulators mint --supplier sup-a --product GAME50 --count 20 > keys.txt

`mint` asks a running simulator for fresh card keys and prints them one per line (the format
`kamidesk keys import` reads).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading

import httpx

from simulators import DEMO_SUPPLIERS
from simulators.admin import SupplierSimAdmin
from simulators.launcher import start_simulators


def serve(args: argparse.Namespace) -> int:
    """Start both simulators and wait for Ctrl-C / SIGTERM."""
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
    sys.stdout.flush()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        sims.stop()
    return 0


def mint(args: argparse.Namespace) -> int:
    """Print freshly minted keys, one per line."""
    admin = SupplierSimAdmin(args.url)
    try:
        keys = admin.mint_keys(args.supplier, args.product, args.count)
    except httpx.HTTPStatusError as exc:
        print(
            f"simulator refused: {exc.response.status_code} {exc.response.text}", file=sys.stderr
        )
        return 1
    except httpx.HTTPError as exc:
        print(f"cannot reach the simulator at {args.url}: {exc}", file=sys.stderr)
        return 1
    finally:
        admin.close()
    print("\n".join(keys))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and run the chosen command (default: serve)."""
    parser = argparse.ArgumentParser(prog="python -m simulators", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--supplier-port", type=int, default=8001)
    parser.add_argument("--payment-port", type=int, default=8002)
    parser.add_argument("--payment-merchant", default="kamidesk-demo")
    parser.add_argument("--payment-secret", default="change-me")
    parser.set_defaults(run=serve)
    commands = parser.add_subparsers()
    minting = commands.add_parser("mint", help="print new card keys from a running simulator")
    minting.add_argument("--url", default="http://127.0.0.1:8001")
    minting.add_argument("--supplier", default="sup-a")
    minting.add_argument("--product", required=True)
    minting.add_argument("--count", type=int, default=10)
    minting.set_defaults(run=mint)
    args = parser.parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
