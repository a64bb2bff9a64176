"""Benchmarks with targets: `make bench` or `python -m bench [--bids N]`.

Measures the officers' bid list (the page that grows with every bid), an award decision and a bid submission,
against a file SQLite database (or TEST_DATABASE_URL), and reports the median and 95th
percentile times and peak Python memory; then the grants register export at two sizes (bench/exports.py).
Exits 1 if a target is missed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import tracemalloc
from datetime import timedelta

TARGETS_MS = {"officer bid list (p95)": 250.0, "submit a bid (p95)": 150.0, "decide an award (p95)": 150.0}
MEMORY_TARGET_MB = 50.0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bids", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()

    from sqlalchemy import insert

    from bench.two_step import BENCH_TOTP_SECRET, next_code
    from grants import create_app
    from grants.core.dates import financial_year_bounds, financial_year_start, today
    from grants.core.extensions import db
    from grants.core.models import Assessment, Bid, BudgetLine, Fund, FundYear, Organisation, User, utcnow
    from grants.core.passwords import hash_password

    tmp = tempfile.mkdtemp()
    uri = os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp}/bench.db"
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=uri)
    with app.app_context():
        db.drop_all()
        db.create_all()
        orgs = [Organisation(name=f"CSP {i}") for i in range(6)]
        fund = Fund(name="Safer Communities Fund")
        db.session.add_all([*orgs, fund])
        db.session.flush()
        year = financial_year_start(today())
        opens, closes = financial_year_bounds(year)
        fy = FundYear(fund_id=fund.id, year_start=year, budget_pence=10**11, per_bid_cap_pence=5_000_00,
                      delegation_limit_pence=2_500_00, opens_on=opens, closes_on=closes)
        password_hash = hash_password("benchmark-password")
        officer = User(email="officer@bench.example", name="Officer", role="officer", password_hash=password_hash,
                       totp_secret=BENCH_TOTP_SECRET, totp_confirmed_at=utcnow())
        applicant = User(email="applicant@bench.example", name="Applicant", role="applicant",
                         organisation_id=orgs[0].id, password_hash=password_hash)
        db.session.add_all([fy, officer, applicant])
        db.session.flush()
        start = today() + timedelta(days=7)
        db.session.execute(insert(Bid), [
            {"organisation_id": orgs[i % 6].id, "fund_year_id": fy.id, "created_by_id": applicant.id,
             "status": "submitted", "title": f"Bid {i}", "local_issue": "x", "activities": "x", "location": "x",
             "theme": "asb", "start_date": start, "end_date": start + timedelta(days=60), "outputs": "x",
             "outcomes": "x", "declaration": True, "version": 1}
            for i in range(args.bids)
        ])
        bid_ids = [row[0] for row in db.session.execute(db.select(Bid.id))]
        db.session.execute(insert(BudgetLine), [
            {"bid_id": bid_id, "position": 0, "item": "Item", "amount_pence": 1_000_00} for bid_id in bid_ids
        ])
        # The first bids are assessed and ready for an award decision.
        decide_ids = bid_ids[:args.repeat]
        db.session.execute(insert(Assessment), [
            {"bid_id": bid_id, "assessor_id": officer.id, "criteria_scores": {}, "total_score": 15,
             "recommended_pence": 1_000_00, "organisation_checked": True, "fraud_risk": "low"}
            for bid_id in decide_ids
        ])
        db.session.execute(db.update(Bid).where(Bid.id.in_(decide_ids)).values(status="in_review"))
        db.session.commit()
        fy_id = fy.id

    results: dict[str, list[float]] = {}
    client = app.test_client()
    client.post("/sign-in", data={"email": "officer@bench.example", "password": "benchmark-password"})
    client.post("/sign-in/code", data={"code": next_code("officer@bench.example")})
    client.get("/assess/")  # warm up: template compilation is not what is measured
    tracemalloc.start()
    for _ in range(args.repeat):
        t = time.perf_counter()
        response = client.get("/assess/?status=submitted")
        results.setdefault("officer bid list (p95)", []).append((time.perf_counter() - t) * 1000)
        assert response.status_code == 200
    list_peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()

    for bid_id in decide_ids:
        t = time.perf_counter()
        response = client.post(f"/assess/bids/{bid_id}/award",
                               data={"version": "1", "amount_pence": "1000", "reasons": "Reduces burglary",
                                     "public_summary": "Burglary prevention"})
        results.setdefault("decide an award (p95)", []).append((time.perf_counter() - t) * 1000)
        assert response.status_code == 302, response.get_data(as_text=True)[:500]

    applicant_client = app.test_client()
    applicant_client.post("/sign-out")
    applicant_client.post("/sign-in", data={"email": "applicant@bench.example", "password": "benchmark-password"})
    for i in range(args.repeat):
        response = applicant_client.post("/bids/start", data={"fund_year_id": fy_id})
        bid_id = response.headers["Location"].split("/")[-2]
        data = {
            "version": "1", "title": f"Bench {i}", "local_issue": "x", "activities": "x", "location": "x",
            "theme": "asb", "start_date": [str(start.day), str(start.month), str(start.year)],
            "end_date": [str(start.day), str(start.month), str(start.year)],
            "outputs": "x", "outcomes": "x", "budget_lines-0-item": "Item", "budget_lines-0-amount": "100",
            "other_funding": "None", "declaration": "y", "submit": "Submit",
        }
        t = time.perf_counter()
        response = applicant_client.post(f"/bids/{bid_id}/edit", data=data)
        results.setdefault("submit a bid (p95)", []).append((time.perf_counter() - t) * 1000)
        assert response.status_code == 302, response.get_data(as_text=True)[:500]

    failed = False
    print(f"Database: {uri.split('://')[0]}; {args.bids} bids; {args.repeat} repeats")
    for name, times in results.items():
        p95 = statistics.quantiles(times, n=20)[-1]
        ok = p95 <= TARGETS_MS[name]
        failed |= not ok
        print(f"  {name:28} median {statistics.median(times):7.1f} ms  p95 {p95:7.1f} ms  "
              f"target {TARGETS_MS[name]:.0f} ms  {'ok' if ok else 'MISSED'}")
    ok = list_peak <= MEMORY_TARGET_MB
    failed |= not ok
    print(f"  {'officer list peak memory':28} {list_peak:7.1f} MB  target {MEMORY_TARGET_MB:.0f} MB  {'ok' if ok else 'MISSED'}")
    from bench import exports

    failed |= exports.run()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
