"""Export benchmark: build the grants register workbook from generated rows, at two sizes.

Rows come from a generator, as they would from a streamed query, so what is measured is the builder alone:
its time, and its peak Python memory (tracemalloc). Streaming rows to disk (XlsxWriter constant_memory) should keep that peak flat
as the row count grows twentyfold. Run alone with `python -m bench.exports [--rows 1000 20000]`; `python -m bench`
runs it after the web benchmarks.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

SIZES = (1_000, 20_000)
TIME_TARGET_MS_PER_1000_ROWS = 600.0
MEMORY_TARGET_MB = 20.0
# "Flat": the largest size may use at most this many times the smallest size's peak.
MEMORY_GROWTH_LIMIT = 2.0


def generated_rows(count: int) -> Iterator[object]:
    """Register rows with realistic, all-different text, made one at a time."""
    from grants.finance.reports import GrantsRegisterRow

    start = date(2025, 4, 1)
    for i in range(count):
        has_agreement = i % 4 != 0
        yield GrantsRegisterRow(
            grant_id=f"360G-opcccambs-BID-{i:05d}", bid_reference=f"BID-{i:05d}", organisation_id=i % 50,
            organisation=f"Community Safety Partnership number {i % 50}", org_identifier=None if i % 3 else "GB-LAE-X",
            fund="Safer Communities Fund", funding_source="OPCC", title=f"Cycle marking and lighting project {i}",
            description=f"Marking events at {i % 40} schools and stations, lights for families in need ({i}).",
            theme="Bike theft", location=f"Ward {i % 120}", award_date=start + timedelta(days=i % 300),
            requested_pence=450_050 + i, awarded_pence=400_000 + i,
            agreement_reference=f"GA-{i:05d}" if has_agreement else None,
            agreement_status="Active" if has_agreement else None,
            agreement_start=start + timedelta(days=30) if has_agreement else None,
            agreement_end=date(2026, 3, 31) if has_agreement else None,
            paid_pence=100_000, scheduled_pence=200_000, repayment_asked_pence=None if i % 10 else 25_000,
            repaid_pence=None if i % 10 else 10_000, repayment_written_off_pence=None if i % 10 else 0,
            repayment_outstanding_pence=None if i % 10 else 15_000, close_out=None,
            returns_due=1, returns_submitted=i % 2, returns_accepted=1, returns_overdue=i % 3 == 0,
            last_modified=datetime(2025, 6, 1, 10, tzinfo=UTC),
        )


def build(count: int, path: str) -> int:
    from exports.grants_register import build_grants_register
    from grants.core.dates import whole_year

    return build_grants_register(generated_rows(count), path, period=whole_year(2025), made_by="Benchmark",
                                 made_at=datetime(2026, 1, 1, tzinfo=UTC))


def run(sizes: tuple[int, ...] = SIZES) -> bool:
    """Print one line per size and the memory comparison; return True if a target was missed."""
    failed = False
    peaks: dict[int, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "register.xlsx")
        build(100, path)  # warm up: imports and style tables are not what is measured
        for count in sizes:
            t = time.perf_counter()
            assert build(count, path) == count
            elapsed_ms = (time.perf_counter() - t) * 1000
            size_mb = os.path.getsize(path) / 2**20
            # Memory on a second build, as tracing slows the code it watches.
            tracemalloc.start()
            build(count, path)
            peaks[count] = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
            target_ms = TIME_TARGET_MS_PER_1000_ROWS * count / 1000
            ok = elapsed_ms <= target_ms and peaks[count] <= MEMORY_TARGET_MB
            failed |= not ok
            print(f"  {f'grants register, {count:,} rows':28} {elapsed_ms:9.1f} ms  peak {peaks[count]:5.1f} MB  "
                  f"file {size_mb:4.1f} MB  target {target_ms:.0f} ms, {MEMORY_TARGET_MB:.0f} MB  "
                  f"{'ok' if ok else 'MISSED'}")
    small, large = min(sizes), max(sizes)
    growth = peaks[large] / peaks[small] if peaks[small] else 0.0
    ok = growth <= MEMORY_GROWTH_LIMIT
    failed |= not ok
    print(f"  {'register memory growth':28} {growth:9.2f} x for {large // small}x the rows  "
          f"target {MEMORY_GROWTH_LIMIT:.1f} x  {'ok' if ok else 'MISSED'}")
    return failed


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, nargs="+", default=list(SIZES))
    args = parser.parse_args()
    print("Exports (XlsxWriter constant_memory, generated rows)")
    return 1 if run(tuple(args.rows)) else 0


if __name__ == "__main__":
    sys.exit(main())
