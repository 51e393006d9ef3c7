"""make bench: every bench, each printing figures as ratios against a bare baseline measured
in the same run (never pass/fail on time).

    python -m bench                   every bench below, in this order
    python -m bench widget [opts]     the widget spine only (bench/widget.py)
    python -m bench webhook [opts]    webhook ack and webhook -> reply (bench/webhook.py)
    python -m bench segments [opts]   1M contacts: a segment vs hand SQL (bench/segments.py)
    python -m bench flows [opts]      trigger matching + one flow step (bench/flows.py)
    python -m bench catalog [opts]    50k products: search vs a bare FTS query (bench/catalog.py)
    python -m bench broadcast [opts]  1M recipients: snapshot, dispatch, memory, pacing
                                      (bench/broadcast.py)
    python -m bench import [opts]     CSV import rows/s vs bare executemany (contacts_import.py)

`--postgres` with no subcommand runs every bench on PostgreSQL + Redis.
"""

from __future__ import annotations

import sys

from bench import broadcast, catalog, contacts_import, flows, segments, webhook, widget

BENCHES = {
    "widget": widget.run,
    "webhook": webhook.run,
    "segments": segments.run,
    "flows": flows.run,
    "catalog": catalog.run,
    "broadcast": broadcast.run,
    "import": contacts_import.run,
}


def main(argv: list[str]) -> None:
    if argv and argv[0] in BENCHES:
        BENCHES[argv[0]](argv[1:])
        return
    if argv and argv[0] in {"-h", "--help"}:
        print(__doc__)
        return
    unknown = [a for a in argv if a != "--postgres"]
    if unknown:
        raise SystemExit(f"unknown arguments {unknown}; see python -m bench --help")
    for run in BENCHES.values():
        run(argv)
        print()


if __name__ == "__main__":
    main(sys.argv[1:])
