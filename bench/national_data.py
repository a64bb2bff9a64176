"""National-scale data for `make bench-scale`: BENCH_BIDS bids (default 50,000) from 500 organisations.

The schema is made by the project's own migrations (`flask db upgrade`) on an empty database, then every table is
filled with SQLAlchemy Core bulk inserts (lists of dicts, BATCH rows at a time, one transaction per table) with
ids given here, so related rows can name each other without reading anything back. The rows keep the models'
CHECK constraints and invariants: money in integer pence; awards within the fund-year's per-bid cap (£5,000 for
the Safer Communities Fund) and per-applicant cap; a fund-year's committed total is the sum of its awards and
within its budget (and a 32-bit column); an agreement's scheduled total is the sum of its scheduled and paid
payments; a paid payment has its date; returns only for grants that started, one per reporting period.

Shape at 50,000 bids: 500 organisations (CSPs and councils under GB-LAE identifiers, charities and companies
under GB-CHC and GB-COH, a few on no register) with three applicants each, OPCC staff, six funds over five
financial years, about 40% of bids awarded (20,000 awards) with agreements in every state, about two payments
and two monitoring returns per agreement, an audit event for each move and the emails the moves send.

Run alone: `python -m bench.national_data [--bids N] [--url URL]` (default: a new SQLite file).
"""

from __future__ import annotations

import argparse
import bisect
import itertools
import math
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bench.two_step import BENCH_TOTP_SECRET

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_BIDS = 50_000
ORGANISATIONS = 500  # the OPCC and 499 that bid
APPLICANTS_PER_ORGANISATION = 3
STAFF = {"officer": 12, "approver": 4, "finance": 4, "admin": 3}
BATCH = 5_000
SEED = 20_261_202
LONDON = ZoneInfo("Europe/London")

# Benchmark sign-ins: the first user of each staff role. Every user has this password (hashed once, by the app).
BENCH_PASSWORD = "national-scale-bench-2026"
BENCH_EMAILS = {role: f"{role}@bench.example" for role in STAFF}

# Money columns are 32-bit integers on PostgreSQL: a fund-year's budget stays below this.
INT32_MAX = 2**31 - 1
COMMITTED_CEILING = 1_600_000_000

OPCC = "Office of the Police and Crime Commissioner for Cambridgeshire and Peterborough"

THEME_WORDS = {
    "asb": ("Anti-social behaviour", ["Detached youth work", "Street marshals", "Community clean-up days",
                                     "Mediation service", "Town-centre patrols"]),
    "road_safety": ("Road safety", ["Speed-watch kits", "School crossing campaign", "Driver awareness sessions",
                                    "Village gateway signs"]),
    "bike_theft": ("Bike theft", ["Cycle-marking events", "Secure cycle parking", "Bike lock scheme"]),
    "fly_tipping": ("Fly tipping", ["Deployable cameras", "Fly-tipping clear-ups", "Rural lane signage"]),
    "youth_diversion": ("Youth diversion", ["Evening sports sessions", "Boxing club places", "Mentoring scheme",
                                            "Holiday activity programme"]),
    "other": ("Other", ["Independent victim advocates", "Domestic abuse outreach", "Burglary target hardening",
                        "Alley gating", "Neighbourhood watch support"]),
}
ITEMS = [  # item, kind, share of the bid
    ("Youth worker hours", "revenue"), ("Project coordinator", "revenue"), ("Event staff", "revenue"),
    ("Venue hire", "revenue"), ("Training and materials", "revenue"), ("Publicity and leaflets", "revenue"),
    ("Deployable CCTV camera", "capital"), ("Lighting and alley gates", "capital"), ("Cycle-marking kits", "capital"),
    ("Sports equipment", "capital"), ("Secure laptops", "capital"), ("Advocate salaries", "revenue"),
]


@dataclass(frozen=True)
class FundSpec:
    name: str
    description: str
    source: str
    frequency: str
    per_bid_cap: int
    delegation: int
    per_applicant_cap: int | None
    measures: str | None
    weight: float
    lowest: int  # smallest request, pence
    themes: tuple[str, ...]


FUNDS = [
    FundSpec("Safer Communities Fund", "Up to £5,000 per bid for a swift response to local issues: anti-social "
             "behaviour, road safety, bike theft and fly tipping.", "opcc", "half_yearly", 5_000_00, 2_500_00, None,
             None, 30, 500_00, ("asb", "road_safety", "bike_theft", "fly_tipping")),
    FundSpec("Youth Fund", "Grass-roots funding so young people can contribute positively to their communities.",
             "opcc", "half_yearly", 5_000_00, 2_500_00, 15_000_00, None, 20, 500_00, ("youth_diversion", "asb")),
    FundSpec("Rural Crime Fund", "Up to £10,000 against crime and anti-social behaviour in rural areas.", "opcc",
             "half_yearly", 10_000_00, 5_000_00, None, None, 10, 1_000_00, ("fly_tipping", "other", "asb")),
    FundSpec("Road Safety Fund", "Up to £5,000 for community road-safety schemes.", "opcc", "half_yearly", 5_000_00,
             2_500_00, None, None, 12, 500_00, ("road_safety",)),
    FundSpec("Victims' Services Fund", "Ministry of Justice victims' services grant: support for victims to cope "
             "and recover.", "moj", "half_yearly", 50_000_00, 50_000_00, None, "moj-victims", 13, 5_000_00,
             ("other",)),
    FundSpec("Safer Streets Fund", "Home Office Safer Streets: crime prevention in neighbourhoods, reported "
             "quarterly.", "home_office", "quarterly", 60_000_00, 60_000_00, None, "home-office-crime", 15, 5_000_00,
             ("other", "asb", "bike_theft")),
]

PLACE_STARTS = ["Ash", "Bram", "Cold", "Dun", "East", "Fair", "Glen", "Hart", "Kings", "Lang", "Mill", "North",
                "Oak", "Pen", "Red", "South", "Stan", "Thorn", "West", "Whit", "Wood", "Ald", "Bar", "Brook",
                "Cran", "Elm", "Holm", "Lind", "Marl", "Wick"]
PLACE_ENDS = ["ford", "ham", "ley", "ton", "bury", "field", "worth", "by", "well", "mouth", "stead", "wick",
              "don", "borough", "minster", "combe", "gate", "hurst", "moor", "dale"]
POSTCODE_AREAS = ["CB", "PE", "NR", "IP", "CO", "CM", "SG", "LU", "MK", "NN", "LE", "NG", "DE", "S", "B", "M", "L",
                  "LS", "BD", "HU", "YO", "DN", "LN", "OX", "RG", "SO", "BH", "BS", "EX", "PL", "TR", "CF", "SA",
                  "NP", "LL", "CA", "DH", "NE", "SR", "TS"]
FIRST_NAMES = ["Priya", "Tom", "Olivia", "Alex", "Fay", "Adam", "Sam", "Jo", "Chris", "Amira", "Ben", "Chloe",
               "Dev", "Ellie", "Femi", "Grace", "Harry", "Isla", "Jack", "Kiran", "Leah", "Mo", "Nina", "Owen"]
LAST_NAMES = ["Shah", "Hughes", "Smith", "Jones", "Patel", "Brown", "Taylor", "Wilson", "Evans", "Khan", "Walker",
              "Wright", "Green", "Hall", "Wood", "Clarke", "Turner", "Hill", "Ward", "Lewis"]


def bench_bids() -> int:
    return int(os.environ.get("BENCH_BIDS") or DEFAULT_BIDS)


def _at(day: date, rng: random.Random) -> datetime:
    """A moment in office hours (UK time) on `day`, as an aware UTC datetime."""
    return datetime.combine(day, clock(rng.randint(8, 17), rng.randint(0, 59), rng.randint(0, 59)),
                            tzinfo=LONDON).astimezone(UTC)


def _later(moment: datetime, rng: random.Random, lo_minutes: int = 1, hi_minutes: int = 90) -> datetime:
    return moment + timedelta(minutes=rng.randint(lo_minutes, hi_minutes))


def _days(rng: random.Random, lo: int, hi: int) -> timedelta:
    return timedelta(days=rng.randint(lo, hi))


# --- The plan: every record's facts, decided in Python before anything is written -----------------------------


@dataclass(slots=True)
class BidPlan:
    id: int
    org_id: int
    fund: int  # index into FUNDS
    year: int
    fund_year_id: int
    user_id: int
    status: str
    created: datetime
    submitted: datetime | None
    decided: datetime | None
    start: date
    end: date
    title: str
    theme: str
    location: str
    lines: list[tuple[int, str, int, str]]  # (id, item, pence, kind)
    award: int = 0  # pence awarded
    award_id: int = 0
    agreement: AgreementPlan | None = None

    @property
    def requested(self) -> int:
        return sum(line[2] for line in self.lines)


@dataclass(slots=True)
class AgreementPlan:
    id: int
    status: str
    start: date
    end: date
    prepared: datetime
    issued: datetime | None
    accepted: datetime | None
    activated: datetime | None
    ended: datetime | None
    payments: list[dict[str, Any]] = field(default_factory=list)
    returns: list[dict[str, Any]] = field(default_factory=list)
    repayment: int | None = None
    scheduled: int = 0


@dataclass
class Plan:
    today: date
    now: datetime
    years: list[int]
    organisations: list[dict[str, Any]]
    users: list[dict[str, Any]]
    staff: dict[str, list[int]]
    applicants: dict[int, list[int]]  # organisation id -> its applicants' user ids
    fund_years: dict[tuple[int, int], int]  # (fund index, year) -> id
    measures: dict[int, list[tuple[int, str]]]  # fund index -> [(measure id, unit)]
    measure_rows: list[dict[str, Any]]
    bids: list[BidPlan]
    committed: dict[int, int]  # fund-year id -> pence
    user_email: dict[int, str]


def _place_names(rng: random.Random, count: int) -> list[str]:
    names = [a + b for a in PLACE_STARTS for b in PLACE_ENDS]
    rng.shuffle(names)
    if count > len(names):
        names += [f"{a} {b}" for a, b in itertools.product(names, ("Upper", "Lower"))]
    return names[:count]


def _codes(rng: random.Random, count: int) -> list[str]:
    seen: set[str] = set()
    while len(seen) < count:
        seen.add("".join(rng.choice("ABCDEFGHIJKLMNOPRSTUVWY") for _ in range(3)))
    codes = sorted(seen)
    rng.shuffle(codes)
    return codes


def _postcode(rng: random.Random) -> str:
    area = rng.choice(POSTCODE_AREAS)
    return f"{area}{rng.randint(1, 29)} {rng.randint(1, 9)}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}" \
           f"{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}"


def _organisations(rng: random.Random, created: datetime) -> list[dict[str, Any]]:
    """The OPCC first, then CSPs and councils (GB-LAE), charities (GB-CHC), companies (GB-COH), and a few
    groups on no register."""
    bidders = ORGANISATIONS - 1
    places = _place_names(rng, bidders)
    codes = _codes(rng, bidders)
    district_prefix = ["E07000", "E06000", "E08000", "E09000", "W06000"]
    rows = [{"id": 1, "name": OPCC, "org_type": "opcc", "org_identifier": None, "charity_number": None,
             "company_number": None, "postcode": "PE29 6NP", "district_code": "E07000011",
             "district_name": "Huntingdonshire", "active": True, "created_at": created}]
    for i, place in enumerate(places):
        kind = i % 10  # 0-5 CSP, 6-7 council, 8 charity, 9 company or unregistered
        district = f"{district_prefix[i % 5]}{100 + i:03d}"[:9]
        row = {"id": i + 2, "org_type": "csp", "org_identifier": f"GB-LAE-{codes[i]}", "charity_number": None,
               "company_number": None, "postcode": _postcode(rng), "district_code": district,
               "district_name": place, "active": i % 97 != 5, "created_at": created}
        if kind <= 5:
            row["name"] = f"{place} Community Safety Partnership"
        elif kind <= 7:
            row["name"] = f"{place} {'District' if kind == 6 else 'Borough'} Council"
            row["org_type"] = "other"
        elif kind == 8:
            number = f"{1_050_000 + i * 37:07d}"
            row.update(name=f"{place} {rng.choice(['Victim Support', 'Youth Trust', 'Women’s Aid'])}",
                       org_type="other", org_identifier=f"GB-CHC-{number}", charity_number=number,
                       company_number=f"{8_000_000 + i * 11:08d}")
        elif i % 20 == 9:
            number = f"{9_000_000 + i * 13:08d}"
            row.update(name=f"{place} Community Interest Company", org_type="other",
                       org_identifier=f"GB-COH-{number}", company_number=number)
        else:
            row.update(name=f"{place} Residents’ Association", org_type="other", org_identifier=None,
                       district_code=None, district_name=None)
        rows.append(row)
    return rows


class _Planner:
    """Decides every record's facts, bid by bid, keeping the fund-years' totals and the ids as it goes."""

    def __init__(self, bids: int, today: date, password_hash: str, seed: int) -> None:
        from grants.core.dates import financial_year_bounds, financial_year_start

        self.bids = bids
        self.rng = random.Random(seed)
        self.today = today
        self.now = datetime.now(UTC)
        self.current = financial_year_start(today)
        # Five financial years at 50,000 bids; more for more bids, so no fund-year outgrows its budget column.
        year_count = max(5, math.ceil(bids / 10_000))
        self.years = list(range(self.current - year_count + 1, self.current + 1))
        self.epoch = _at(financial_year_bounds(self.years[0])[0] - timedelta(days=60), self.rng)
        self.password_hash = password_hash
        self.organisations = _organisations(self.rng, self.epoch)
        self.users: list[dict[str, Any]] = []
        self.staff: dict[str, list[int]] = defaultdict(list)
        self.applicants: dict[int, list[int]] = defaultdict(list)
        self.user_email: dict[int, str] = {}
        self.fund_years = {(f, year): n for n, (f, year) in
                           enumerate(itertools.product(range(len(FUNDS)), self.years), 1)}
        self.measures, self.measure_rows = _measures(self.epoch)
        self.committed: dict[int, int] = defaultdict(int)
        self.by_applicant: dict[tuple[int, int], int] = defaultdict(int)
        self.line_ids, self.award_ids, self.agreement_ids = itertools.count(1), itertools.count(1), itertools.count(1)
        self.payment_ids, self.return_ids = itertools.count(1), itertools.count(1)
        self._people()
        # Who bids: some organisations far more than others. Which fund and year: by weight, more bids each year.
        self.bidders = [org["id"] for org in self.organisations[1:] if org["active"]]
        self.rng.shuffle(self.bidders)
        self.org_cum = list(itertools.accumulate(1 / math.sqrt(rank + 1) for rank in range(len(self.bidders))))
        self.fund_cum = list(itertools.accumulate(spec.weight for spec in FUNDS))
        self.year_cum = list(itertools.accumulate(1 + 0.15 * n for n in range(len(self.years))))

    def _add_user(self, email: str, name: str, role: str, org_id: int | None) -> int:
        uid = len(self.users) + 1
        staff = role != "applicant"  # staff sign in with a second factor: the benchmark's own key
        self.users.append({"id": uid, "email": email, "name": name, "password_hash": self.password_hash,
                           "role": role, "organisation_id": org_id, "active": True, "session_token": None,
                           "totp_secret": BENCH_TOTP_SECRET if staff else None,
                           "totp_confirmed_at": self.epoch if staff else None, "totp_last_step": None,
                           "last_login_at": None, "created_at": self.epoch})
        self.user_email[uid] = email
        return uid

    def _people(self) -> None:
        rng = self.rng
        for role, count in STAFF.items():
            for n in range(count):
                given, family = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
                email = BENCH_EMAILS[role] if n == 0 else f"{given.lower()}.{family.lower()}.{role}{n}@opcc.example"
                name = f"Benchmark {role.title()}" if n == 0 else f"{given} {family}"
                self.staff[role].append(self._add_user(email, name, role, 1))
        for org in self.organisations[1:]:
            slug = org["name"].split()[0].lower()
            for _n in range(APPLICANTS_PER_ORGANISATION):
                given, family = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
                email = f"{given.lower()}.{family.lower()}.{len(self.users) + 1}@{slug}-{org['id']}.example"
                self.applicants[org["id"]].append(self._add_user(email, f"{given} {family}", "applicant", org["id"]))

    def _pick(self, cum: list[float]) -> int:
        return min(bisect.bisect_left(cum, self.rng.random() * cum[-1]), len(cum) - 1)

    def _status(self, year: int, created_day: date) -> str:
        choices = self.rng.choices
        if year < self.current:
            return choices(["approved", "rejected", "withdrawn", "draft"], [42, 42, 8, 8])[0]
        if (self.today - created_day).days < 20:
            return choices(["draft", "submitted", "in_review"], [25, 55, 20])[0]
        return choices(["approved", "rejected", "withdrawn", "draft", "submitted", "in_review", "info_requested",
                        "recommended"], [40, 18, 5, 5, 12, 10, 5, 5])[0]

    def _timeline(self, status: str, created_day: date, created: datetime) -> tuple[datetime | None, datetime | None]:
        """When the bid was submitted and decided (or withdrawn), never later than yesterday."""
        rng = self.rng
        last_day = self.today - timedelta(days=1)
        if status == "draft":
            return None, None
        room = max(0, (last_day - created_day).days)
        submitted = _at(created_day + timedelta(days=min(rng.randint(0, 10), room)), rng)
        if submitted < created:
            submitted = _later(created, rng)
        if status not in ("approved", "rejected", "recommended", "info_requested", "withdrawn"):
            return submitted, None
        sub_day = submitted.astimezone(LONDON).date()
        room = max(0, (last_day - sub_day).days)
        decided = _at(sub_day + timedelta(days=min(rng.randint(14, 60), room)), rng)
        if decided <= submitted:
            decided = _later(submitted, rng)
        return submitted, decided

    def _lines(self, spec: FundSpec) -> tuple[int, list[tuple[int, str, int, str]]]:
        """The request, in costed lines, within the fund's per-bid cap."""
        rng = self.rng
        if spec.per_bid_cap <= 10_000_00:
            total = rng.randint(spec.lowest // 1000, spec.per_bid_cap // 1000) * 1000
        else:
            total = int(math.exp(rng.uniform(math.log(spec.lowest), math.log(spec.per_bid_cap))) // 1000 * 1000)
        total = max(spec.lowest, min(total, spec.per_bid_cap))
        count = rng.choice((1, 2, 2, 3))
        cuts = sorted(rng.sample(range(1, 20), count - 1)) if count > 1 else []
        shares = [b - a for a, b in zip([0, *cuts], [*cuts, 20], strict=True)]
        lines: list[tuple[int, str, int, str]] = []
        left = total
        for n, share in enumerate(shares):
            amount = left if n == count - 1 else total * share // 20 // 100 * 100
            left -= amount
            item, kind = rng.choice(ITEMS)
            lines.append((next(self.line_ids), item, amount, kind))
        return total, lines

    def bid(self, bid_id: int) -> BidPlan:
        from grants.core.dates import financial_year_bounds

        rng = self.rng
        f = self._pick(self.fund_cum)
        spec = FUNDS[f]
        year = self.years[self._pick(self.year_cum)]
        org_id = self.bidders[self._pick(self.org_cum)]
        opens, closes = financial_year_bounds(year)
        earliest = opens - timedelta(days=30)
        latest = min(closes - timedelta(days=45), self.today - timedelta(days=3))
        created_day = earliest + timedelta(days=rng.randint(0, max(0, (latest - earliest).days)))
        created = _at(created_day, rng)
        status = self._status(year, created_day)
        submitted, decided = self._timeline(status, created_day, created)
        start = max(opens, created_day + _days(rng, 30, 90))
        end = start + _days(rng, 120, 300)  # most grants run for four to ten months, many across 31 March
        total, lines = self._lines(spec)
        theme = rng.choice(spec.themes)
        activity = rng.choice(THEME_WORDS[theme][1])
        org = self.organisations[org_id - 1]
        place = org["district_name"] or org["name"].split()[0]
        ward = f"{place} {rng.choice(['North', 'South', 'East', 'West', 'Central', 'Park', 'Castle'])}"
        plan = BidPlan(id=bid_id, org_id=org_id, fund=f, year=year, fund_year_id=self.fund_years[(f, year)],
                       user_id=rng.choice(self.applicants[org_id]), status=status, created=created,
                       submitted=submitted, decided=decided, start=start, end=end,
                       title=f"{activity} in {ward}"[:200], theme=theme, location=ward, lines=lines)
        if status == "approved":
            self._award(plan, spec, total)
        return plan

    def _award(self, plan: BidPlan, spec: FundSpec, total: int) -> None:
        """Awarded in full, or in part; refused instead when the fund-year or the applicant's cap has no room."""
        rng = self.rng
        amount = total if rng.random() < 0.8 else max(100_00, total * rng.randint(60, 95) // 100 // 100 * 100)
        fy = plan.fund_year_id
        over_cap = spec.per_applicant_cap is not None and self.by_applicant[(fy, plan.org_id)] + amount > \
            spec.per_applicant_cap
        if over_cap or self.committed[fy] + amount > COMMITTED_CEILING:
            plan.status = "rejected"
            return
        self.committed[fy] += amount
        self.by_applicant[(fy, plan.org_id)] += amount
        plan.award, plan.award_id = amount, next(self.award_ids)
        plan.agreement = _agreement(self, plan, spec)

    def plan(self) -> Plan:
        bids = [self.bid(bid_id) for bid_id in range(1, self.bids + 1)]
        return Plan(today=self.today, now=self.now, years=self.years, organisations=self.organisations,
                    users=self.users, staff=dict(self.staff), applicants=dict(self.applicants),
                    fund_years=self.fund_years, measures=self.measures, measure_rows=self.measure_rows, bids=bids,
                    committed=dict(self.committed), user_email=self.user_email)


def _measures(created: datetime) -> tuple[dict[int, list[tuple[int, str]]], list[dict[str, Any]]]:
    """The government funds' outcome measures, from the standard sets: (fund index -> [(id, unit)], rows)."""
    from grants.monitoring.measures import STANDARD_SETS

    measures: dict[int, list[tuple[int, str]]] = defaultdict(list)
    rows: list[dict[str, Any]] = []
    for f, spec in enumerate(FUNDS):
        if spec.measures:
            for position, m in enumerate(STANDARD_SETS[spec.measures][1], 1):
                rows.append({"id": len(rows) + 1, "fund_id": f + 1, "name": m.name, "guidance": m.guidance,
                             "unit": m.unit, "required": m.required, "category": m.category, "position": position,
                             "retired_at": None, "created_at": created})
                measures[f].append((len(rows), m.unit))
    return dict(measures), rows


def make_plan(bids: int, today: date, password_hash: str, seed: int = SEED) -> Plan:
    return _Planner(bids, today, password_hash, seed).plan()


def _agreement(planner: _Planner, plan: BidPlan, spec: FundSpec) -> AgreementPlan | None:
    """The agreement made from an award, taken as far as its dates (and a little chance) allow."""
    rng, today, now = planner.rng, planner.today, planner.now
    assert plan.decided is not None
    award_day = plan.decided.astimezone(LONDON).date()
    recent = (today - award_day).days < 7
    if (recent and rng.random() < 0.6) or rng.random() < 0.03:
        return None  # awarded; the agreement is still being prepared
    start = max(plan.start, award_day + timedelta(days=7))
    end = max(plan.end, start + timedelta(days=60))
    prepared = _at(award_day + timedelta(days=1), rng)
    issued = _at(award_day + timedelta(days=3), rng)
    accepted = _at(award_day + _days(rng, 5, 14), rng)
    activated = _at(accepted.astimezone(LONDON).date() + _days(rng, 1, 5), rng)
    steps = [("draft", prepared), ("issued", issued), ("accepted", accepted), ("active", activated)]
    weights = [4, 5, 6, 85] if plan.year == planner.current else [0, 1, 1, 98]
    target = rng.choices(range(4), weights)[0]
    reached = 0
    for n, (_state, moment) in enumerate(steps):
        if n <= target and moment <= now:
            reached = n
    status = steps[reached][0]
    agreement = AgreementPlan(id=next(planner.agreement_ids), status=status, start=start, end=end, prepared=prepared,
                              issued=issued if reached >= 1 else None, accepted=accepted if reached >= 2 else None,
                              activated=activated if reached >= 3 else None, ended=None)
    if status == "active":
        span = max(1, (end - start).days)
        stop = _at(start + timedelta(days=rng.randint(span // 4, max(span // 4, 3 * span // 4))), rng)
        close = _at(end + _days(rng, 20, 60), rng)
        if rng.random() < 0.04 and stop <= now and stop > activated:
            agreement.status, agreement.ended = "terminated", stop
        elif close <= now and rng.random() < 0.92:
            agreement.status, agreement.ended = "closed", close
    if agreement.status in ("accepted", "active", "closed", "terminated"):
        _payments(agreement, plan, spec, rng, today)
    if agreement.activated is not None:
        _returns(agreement, spec, rng, today, planner.return_ids)
    # Payment ids in the order the rows will be written.
    for payment in agreement.payments:
        payment["id"] = next(planner.payment_ids)
    return agreement


def _payments(agreement: AgreementPlan, plan: BidPlan, spec: FundSpec, rng: random.Random, today: date) -> None:
    parts = 4 if spec.frequency == "quarterly" else 2
    amount = plan.award
    each = amount // parts // 100 * 100 or amount // parts
    span = (agreement.end - agreement.start).days
    assert agreement.accepted is not None
    accepted_day = agreement.accepted.astimezone(LONDON).date()
    ended_day = agreement.ended.astimezone(LONDON).date() if agreement.ended else None
    paid_total = 0
    for n in range(parts):
        value = each if n < parts - 1 else amount - each * (parts - 1)
        if value <= 0:
            continue
        due = max(agreement.start + timedelta(days=span * n // parts), accepted_day)
        status, paid_on, reference = "scheduled", None, ""
        if agreement.status == "terminated" and ended_day is not None and due > ended_day:
            status = "cancelled"
        elif due <= today and (agreement.status != "accepted" or n == 0):
            status = "paid"
            paid_on = min(due + _days(rng, 0, 7), today)
            if ended_day is not None and agreement.status == "terminated":
                paid_on = min(paid_on, ended_day)
            reference = f"AP-{paid_on.year}-{rng.randint(10_000, 99_999)}"
            paid_total += value
        created = agreement.accepted + timedelta(hours=2)
        agreement.payments.append({
            "agreement_id": agreement.id, "amount_pence": value, "due_on": due, "status": status,
            "paid_on": paid_on, "finance_reference": reference,
            "note": f"Instalment {n + 1} of {parts}", "created_at": created, "version": 2 if status != "scheduled" else 1,
        })
    agreement.scheduled = sum(p["amount_pence"] for p in agreement.payments if p["status"] != "cancelled")
    if agreement.status == "terminated" and paid_total and rng.random() < 0.6:
        agreement.repayment = paid_total * rng.randint(10, 50) // 100


def _returns(agreement: AgreementPlan, spec: FundSpec, rng: random.Random, today: date,
             return_ids: Iterator[int]) -> None:
    from grants.core.dates import periods_overlapping

    assert agreement.activated is not None
    activated_day = agreement.activated.astimezone(LONDON).date()
    ended_day = agreement.ended.astimezone(LONDON).date() if agreement.ended else None
    for period in periods_overlapping(agreement.start, agreement.end, spec.frequency):
        period_end = min(period.end, agreement.end)
        due = max(period_end + timedelta(days=31), activated_day + timedelta(days=31))
        sent_day = period_end + _days(rng, 1, 25)
        if agreement.status == "closed":
            status = "accepted" if rng.random() < 0.95 else "not_required"
        elif agreement.status == "terminated":
            status = "accepted" if ended_day and sent_day < ended_day and period_end < ended_day else "not_required"
        elif period_end >= today or sent_day >= today:
            status = "due"
        else:
            status = rng.choices(["accepted", "submitted", "resubmitted", "returned", "due"],
                                 [60, 14, 3, 5, 18])[0]
        agreement.returns.append({"id": next(return_ids), "name": period.name, "start": period.start,
                                  "end": period_end, "due": due, "status": status, "sent": sent_day})


# --- Rows --------------------------------------------------------------------------------------------------------


def _bid_rows(plan: Plan) -> Iterator[dict[str, Any]]:
    for b in plan.bids:
        theme_name = THEME_WORDS[b.theme][0]
        updated = b.decided or b.submitted or b.created
        yield {
            "id": b.id, "organisation_id": b.org_id, "fund_year_id": b.fund_year_id, "created_by_id": b.user_id,
            "status": b.status, "title": b.title,
            "local_issue": f"{theme_name} reported to the neighbourhood policing team in {b.location} has risen "
                           f"over the last year; residents raised it at the last community meeting (ref {b.id}).",
            "activities": f"{b.title}: delivered with the local policing team and partners from "
                          f"{b.start:%B %Y} to {b.end:%B %Y}, with sessions each month.",
            "location": b.location, "theme": b.theme, "start_date": b.start, "end_date": b.end,
            "outputs": "Sessions delivered and people reached, counted each month.",
            "outcomes": f"Fewer reports of {theme_name.lower()} in {b.location} over the following six months.",
            "other_funding": "None" if b.id % 3 else "Parish council contribution",
            "other_funding_pence": 0 if b.id % 3 else 250_00,
            "declaration": b.status != "draft", "declared_by": "" if b.status == "draft" else plan.users[b.user_id - 1]["name"],
            "submitted_at": b.submitted, "decided_at": b.decided if b.status in ("approved", "rejected") else None,
            "created_at": b.created, "updated_at": updated, "version": 1 if b.status == "draft" else 3,
        }


def _line_rows(plan: Plan) -> Iterator[dict[str, Any]]:
    for b in plan.bids:
        for position, (line_id, item, amount, kind) in enumerate(b.lines):
            yield {"id": line_id, "bid_id": b.id, "position": position, "item": item, "amount_pence": amount,
                   "kind": kind}


def _snapshot_rows(plan: Plan) -> Iterator[dict[str, Any]]:
    n = 0
    for b in plan.bids:
        if b.submitted is None:
            continue
        n += 1
        yield {"id": n, "bid_id": b.id, "submission_number": 1, "submitted_at": b.submitted, "facts": {
            "title": b.title, "requested_pence": b.requested, "start_date": b.start.isoformat(),
            "end_date": b.end.isoformat(), "location": b.location, "theme": b.theme,
            "budget_lines": [{"item": item, "amount_pence": amount, "kind": kind} for _i, item, amount, kind in b.lines],
            "activities": f"{b.title}: delivered with the local policing team and partners.",
            "outcomes": "Fewer reports of the issue over the following six months.",
        }}


ASSESSED = ("in_review", "info_requested", "recommended", "approved", "rejected")


def _assessment_rows(plan: Plan, rng: random.Random) -> Iterator[dict[str, Any]]:
    n = 0
    criteria = ("need", "crime_reduction", "deliverability", "value_for_money", "measures")
    for b in plan.bids:
        if b.status not in ASSESSED:
            continue
        n += 1
        scores = {key: rng.randint(2 if b.status == "approved" else 1, 5) for key in criteria}
        assert b.submitted is not None
        yield {"id": n, "bid_id": b.id, "assessor_id": rng.choice(plan.staff["officer"]), "criteria_scores": scores,
               "total_score": sum(scores.values()), "comments": "Clear plan with the neighbourhood policing team.",
               "recommended_pence": b.award or b.requested, "conflict_of_interest": False, "conflict_details": "",
               "organisation_checked": True, "due_diligence_notes": "Bank details match our records.",
               "fraud_risk": rng.choices(["low", "medium", "high"], [85, 13, 2])[0], "fraud_risk_reasons": "",
               "created_at": _later(b.submitted, rng, 60, 60 * 24 * 5)}


def _decision_people(plan: Plan, b: BidPlan) -> tuple[int, int | None]:
    """(who decided, who recommended first): above the delegation limit an officer recommends, an approver decides."""
    officer = plan.staff["officer"][b.id % len(plan.staff["officer"])]
    if b.award > FUNDS[b.fund].delegation:
        return plan.staff["approver"][b.id % len(plan.staff["approver"])], officer
    return officer, None


def _decision_rows(plan: Plan, rng: random.Random) -> Iterator[dict[str, Any]]:
    n = itertools.count(1)
    for b in plan.bids:
        if b.decided is None or b.status == "withdrawn":
            continue
        reasons = f"{b.title} answers a problem the police see in {b.location}, with a plan that can be measured."
        summary = f"{b.title}: {THEME_WORDS[b.theme][0].lower()} work with local partners."
        if b.status == "approved":
            decider, recommender = _decision_people(plan, b)
            if recommender is not None:
                yield {"id": next(n), "bid_id": b.id, "kind": "recommended", "amount_pence": b.award, "reasons": reasons,
                       "public_summary": summary, "decided_by_id": recommender,
                       "created_at": b.decided - timedelta(days=2)}
            yield {"id": next(n), "bid_id": b.id, "kind": "approved", "amount_pence": b.award, "reasons": reasons,
                   "public_summary": summary, "decided_by_id": decider, "created_at": b.decided}
        else:
            kind = {"rejected": "rejected", "recommended": "recommended", "info_requested": "info_requested"}[b.status]
            yield {"id": next(n), "bid_id": b.id, "kind": kind,
                   "amount_pence": b.requested if kind == "recommended" else None,
                   "reasons": "Other bids answered the fund's priorities more closely." if kind == "rejected" else reasons,
                   "public_summary": summary if kind == "recommended" else None,
                   "decided_by_id": plan.staff["officer"][b.id % len(plan.staff["officer"])], "created_at": b.decided}


def _award_rows(plan: Plan, rng: random.Random) -> Iterator[dict[str, Any]]:
    for b in plan.bids:
        if not b.award_id:
            continue
        decider, recommender = _decision_people(plan, b)
        yield {"id": b.award_id, "bid_id": b.id, "fund_year_id": b.fund_year_id, "organisation_id": b.org_id,
               "amount_pence": b.award,
               "reasons": f"{b.title} reduces {THEME_WORDS[b.theme][0].lower()} in {b.location}: the police and "
                          "partners back the plan and its measures.",
               "public_summary": f"{b.title}: {THEME_WORDS[b.theme][0].lower()} work with local partners, "
                                 f"{b.start:%B %Y} to {b.end:%B %Y}.",
               "recommended_by_id": recommender, "approved_by_id": decider, "approved_at": b.decided}


def _agreement_rows(plan: Plan) -> Iterator[dict[str, Any]]:
    from grants.agreements.conditions import DEFAULT_CONDITIONS

    for b in plan.bids:
        a = b.agreement
        if a is None:
            continue
        officer = plan.staff["officer"][b.id % len(plan.staff["officer"])]
        updated = a.ended or a.activated or a.accepted or a.issued or a.prepared
        yield {"id": a.id, "award_id": b.award_id, "bid_id": b.id, "organisation_id": b.org_id, "status": a.status,
               "amount_pence": b.award, "scheduled_pence": a.scheduled, "start_date": a.start, "end_date": a.end,
               "standard_conditions": DEFAULT_CONDITIONS, "conditions_version": 1,
               "special_conditions": "" if b.id % 4 else "Report the number of sessions delivered each month.",
               "prepared_by_id": officer, "issued_at": a.issued, "issued_by_id": officer if a.issued else None,
               "accepted_at": a.accepted, "accepted_by_id": b.user_id if a.accepted else None,
               "accepted_name": plan.users[b.user_id - 1]["name"] if a.accepted else "",
               "accepted_role": "Community Safety Manager" if a.accepted else "", "activated_at": a.activated,
               "ended_at": a.ended,
               "end_reason": {"closed": "Work completed and final return accepted.",
                              "terminated": "The grantee could no longer deliver the work."}.get(a.status, ""),
               "created_at": a.prepared, "updated_at": updated,
               "version": 1 + sum(x is not None for x in (a.issued, a.accepted, a.activated, a.ended))}


def _repayment_rows(plan: Plan) -> Iterator[dict[str, Any]]:
    """A repayment asked for when a terminated grant ended, nothing received yet."""
    n = itertools.count(1)
    for b in plan.bids:
        a = b.agreement
        if a is None or not a.repayment or a.ended is None:
            continue
        yield {"id": next(n), "agreement_id": a.id, "amount_pence": a.repayment, "received_pence": 0, "status": "due",
               "reason": "The grantee could no longer deliver the work.", "due_on": a.ended.date() + timedelta(days=30),
               "created_by_id": plan.staff["officer"][b.id % len(plan.staff["officer"])], "created_at": a.ended,
               "version": 1}


def _payment_rows(plan: Plan) -> Iterator[dict[str, Any]]:
    finance = plan.staff["finance"]
    for b in plan.bids:
        if b.agreement is not None:
            for p in b.agreement.payments:
                yield {**p, "created_by_id": finance[p["id"] % len(finance)]}


def _return_rows(plan: Plan, rng: random.Random) -> Iterator[dict[str, Any]]:
    officers = plan.staff["officer"]
    for b in plan.bids:
        a = b.agreement
        if a is None:
            continue
        for r in a.returns:
            sent = r["status"] in ("submitted", "resubmitted", "accepted", "returned")
            reviewed = r["status"] in ("accepted", "returned")
            yield {"id": r["id"], "agreement_id": a.id, "period_name": r["name"], "period_start": r["start"],
                   "period_end": r["end"], "due_on": r["due"], "status": r["status"],
                   "progress": "Delivered as planned with the neighbourhood policing team." if sent else "",
                   "challenges": "Recruitment took longer than planned." if sent and r["id"] % 5 == 0 else "",
                   "rag": rng.choices(["green", "amber", "red"], [70, 25, 5])[0] if sent else None,
                   "submitted_at": _at(r["sent"], rng) if sent else None,
                   "submitted_by_id": b.user_id if sent else None,
                   "submission_count": 2 if r["status"] == "resubmitted" else int(sent),
                   "reviewed_at": _at(r["sent"] + timedelta(days=7), rng) if reviewed else None,
                   "reviewed_by_id": officers[r["id"] % len(officers)] if reviewed else None,
                   "review_note": "Figures checked against the case records." if reviewed else "",
                   "officer_rag": "green" if reviewed else None, "version": 1 + int(sent) + int(reviewed)}


COUNTED = ("submitted", "resubmitted", "accepted")


def _measure_value_rows(plan: Plan, rng: random.Random) -> Iterator[dict[str, Any]]:
    n = itertools.count(1)
    for b in plan.bids:
        a = b.agreement
        if a is None or b.fund not in plan.measures:
            continue
        for r in a.returns:
            if r["status"] not in COUNTED:
                continue
            for measure_id, unit in plan.measures[b.fund]:
                value = {"count": rng.randint(0, 200), "percentage": rng.randint(40, 100),
                         "yes_no": int(rng.random() < 0.9), "money": rng.randint(0, 5_000) * 100}[unit]
                yield {"id": next(n), "return_id": r["id"], "measure_id": measure_id, "value": value}


def _spend_rows(plan: Plan) -> Iterator[dict[str, Any]]:
    n = itertools.count(1)
    for b in plan.bids:
        a = b.agreement
        if a is None or not a.returns:
            continue
        periods = len(a.returns)
        for r in a.returns:
            if r["status"] not in COUNTED:
                continue
            for line_id, _item, amount, _kind in b.lines:
                yield {"id": next(n), "return_id": r["id"], "budget_line_id": line_id,
                       "spent_pence": amount * b.award // max(1, b.requested) // periods}


class _Events:
    """Audit events, numbered in the order they are made."""

    def __init__(self) -> None:
        self.n = itertools.count(1)

    def __call__(self, at: datetime, actor: int | None, action: str, object_type: str, object_id: int,
                 from_state: str | None, to_state: str | None, note: str = "",
                 details: dict[str, Any] | None = None) -> dict[str, Any]:
        return {"id": next(self.n), "occurred_at": at, "actor_id": actor, "action": action,
                "object_type": object_type, "object_id": object_id, "from_state": from_state, "to_state": to_state,
                "note": note, "details": details}


def _event_rows(plan: Plan, rng: random.Random) -> Iterator[dict[str, Any]]:
    event = _Events()
    for b in plan.bids:
        yield from _bid_events(plan, b, event, rng)
        if b.agreement is not None:
            yield from _agreement_events(plan, b, b.agreement, event, rng)


def _bid_events(plan: Plan, b: BidPlan, event: _Events, rng: random.Random) -> Iterator[dict[str, Any]]:
    officers = plan.staff["officer"]
    yield event(b.created, b.user_id, "bid.created", "bid", b.id, None, "draft", f"{FUNDS[b.fund].name} {b.year}")
    if b.submitted is None:
        return
    yield event(b.submitted, b.user_id, "bid.submitted", "bid", b.id, "draft", "submitted")
    officer = officers[b.id % len(officers)]
    if b.status in ASSESSED:
        yield event(_later(b.submitted, rng, 60, 600), officer, "bid.in_review", "bid", b.id, "submitted",
                    "in_review")
        yield event(_later(b.submitted, rng, 700, 3000), officer, "bid.assessed", "bid", b.id, "in_review",
                    "in_review")
    if b.decided is None:
        return
    if b.status == "withdrawn":
        yield event(b.decided, b.user_id, "bid.withdrawn", "bid", b.id, "submitted", "withdrawn",
                    "The work is now funded another way.")
    elif b.status == "approved":
        decider, recommender = _decision_people(plan, b)
        before = "in_review"
        if recommender is not None:
            yield event(b.decided - timedelta(days=2), recommender, "bid.recommended", "bid", b.id, "in_review",
                        "recommended")
            before = "recommended"
        yield event(b.decided, decider, "bid.approved", "bid", b.id, before, "approved", f"£{b.award / 100:,.2f} awarded")
        yield event(b.decided, decider, "fund_year.committed", "fund_year", b.fund_year_id, None, None,
                    f"£{b.award / 100:,.2f} for BID-{b.id:05d}", {"amount_pence": b.award})
    else:
        yield event(b.decided, officer, f"bid.{b.status}", "bid", b.id, "in_review", b.status)


def _agreement_events(plan: Plan, b: BidPlan, a: AgreementPlan, event: _Events,
                      rng: random.Random) -> Iterator[dict[str, Any]]:
    officer = plan.staff["officer"][b.id % len(plan.staff["officer"])]
    steps = [(a.prepared, "agreement.prepared", None, "draft", officer),
             (a.issued, "agreement.issued", "draft", "issued", officer),
             (a.accepted, "agreement.accepted", "issued", "accepted", b.user_id),
             (a.activated, "agreement.active", "accepted", "active", officer),
             (a.ended, f"agreement.{a.status}", "active", a.status, officer)]
    for at, action, before, after, actor in steps:
        if at is not None:
            yield event(at, actor, action, "grant_agreement", a.id, before, after)
    for p in a.payments:
        finance = plan.staff["finance"][p["id"] % len(plan.staff["finance"])]
        yield event(p["created_at"], finance, "payment.scheduled", "payment", p["id"], None, "scheduled")
        if p["status"] == "paid":
            yield event(_at(p["paid_on"], rng), finance, "payment.paid", "payment", p["id"], "scheduled", "paid")
        elif p["status"] == "cancelled" and a.ended is not None:
            yield event(a.ended, finance, "payment.cancelled", "payment", p["id"], "scheduled", "cancelled")
    for r in a.returns:
        yield from _return_events(a, r, b.user_id, officer, event, rng)


def _return_events(a: AgreementPlan, r: dict[str, Any], grantee: int, officer: int, event: _Events,
                   rng: random.Random) -> Iterator[dict[str, Any]]:
    assert a.activated is not None
    yield event(a.activated, officer, "monitoring_return.scheduled", "monitoring_return", r["id"], None, "due")
    status = r["status"]
    if status in ("submitted", "resubmitted", "accepted", "returned"):
        yield event(_at(r["sent"], rng), grantee, "monitoring_return.submitted", "monitoring_return", r["id"], "due",
                    "submitted")
    if status in ("accepted", "returned", "resubmitted"):
        reviewed = "returned" if status == "resubmitted" else status
        yield event(_at(r["sent"] + timedelta(days=7), rng), officer, f"monitoring_return.{reviewed}",
                    "monitoring_return", r["id"], "submitted", reviewed)
    if status == "resubmitted":
        yield event(_at(r["sent"] + timedelta(days=12), rng), grantee, "monitoring_return.resubmitted",
                    "monitoring_return", r["id"], "returned", "resubmitted")
    if status == "not_required" and a.ended is not None:
        yield event(a.ended, officer, "monitoring_return.not_required", "monitoring_return", r["id"], "due",
                    "not_required", f"Grant GA-{a.id:05d} ended")


def _email_rows(plan: Plan) -> Iterator[dict[str, Any]]:
    n = itertools.count(1)

    def email(to: str, subject: str, body: str, at: datetime) -> dict[str, Any]:
        return {"id": next(n), "to_address": to, "subject": subject, "body": body, "created_at": at,
                "sent_at": at + timedelta(seconds=40), "error": ""}

    for b in plan.bids:
        to = plan.user_email[b.user_id]
        ref = f"BID-{b.id:05d}"
        if b.submitted is not None:
            yield email(to, f"{ref}: bid received", f"We have received your bid {b.title} ({ref}) and will assess "
                        "it against the fund's criteria. We will email you when a decision is made.", b.submitted)
        if b.decided is not None and b.status in ("approved", "rejected", "info_requested"):
            subject = {"approved": "grant awarded", "rejected": "bid not funded",
                       "info_requested": "more information needed"}[b.status]
            yield email(to, f"{ref}: {subject}", f"The OPCC has made a decision on {b.title} ({ref}): {subject}. "
                        "Sign in to read the reasons.", b.decided)
        a = b.agreement
        if a is not None and a.issued is not None:
            yield email(to, f"GA-{a.id:05d}: grant agreement ready", f"Your grant agreement for {b.title} is ready "
                        "for you to read and accept.", a.issued)


# --- Writing ------------------------------------------------------------------------------------------------------


def upgrade_schema(url: str) -> None:
    """`flask db upgrade` on the empty database at `url`: the schema exactly as the migrations make it."""
    from sqlalchemy import create_engine, inspect

    engine = create_engine(url)
    try:
        existing = inspect(engine).get_table_names()
    finally:
        engine.dispose()
    if existing:
        raise RuntimeError(f"the database is not empty (tables: {', '.join(sorted(existing)[:5])}...)")
    env = {**os.environ, "DATABASE_URL": url, "FLASK_APP": "wsgi.py"}
    env.pop("APP_ENV", None)
    done = subprocess.run([sys.executable, "-m", "flask", "db", "upgrade"], cwd=PROJECT_ROOT, env=env,
                          capture_output=True, text=True, check=False)
    if done.returncode:
        raise RuntimeError(f"flask db upgrade failed:\n{done.stdout}\n{done.stderr}")


def insert_rows(engine: Any, table: Any, rows: Iterable[dict[str, Any]], batch: int = BATCH) -> int:
    """Core bulk insert, `batch` rows at a time, in one transaction for the table."""
    from sqlalchemy import insert

    count = 0
    statement = insert(table)
    with engine.begin() as conn:
        chunk: list[dict[str, Any]] = []
        for row in rows:
            chunk.append(row)
            if len(chunk) >= batch:
                conn.execute(statement, chunk)
                count += len(chunk)
                chunk = []
        if chunk:
            conn.execute(statement, chunk)
            count += len(chunk)
    return count


@dataclass
class Built:
    """What the benchmark needs to know about the data it made."""

    url: str
    bids: int
    counts: dict[str, int]
    seconds: float
    years: list[int]
    sample_bid_id: int  # an awarded bid with a running agreement, payments and returns
    staff_visible_bids: int
    awards_by_year: dict[int, int]


def build(url: str, bids: int | None = None, *, quiet: bool = False, today: date | None = None) -> Built:
    """Make the schema with `flask db upgrade` on the empty database at `url`, then fill it. Returns what was made."""
    from sqlalchemy import create_engine, text

    import grants.core.database  # noqa: F401  (SQLite: foreign keys checked as the app checks them)
    from grants.core import models as m
    from grants.core.dates import financial_year_bounds
    from grants.core.dates import today as uk_today
    from grants.core.passwords import hash_password

    bids = bench_bids() if bids is None else bids
    today = today or uk_today()
    started = time.perf_counter()

    def say(text_: str) -> None:
        if not quiet:
            print(f"#   {text_} ({time.perf_counter() - started:.0f} s)", flush=True)

    upgrade_schema(url)
    say("schema made by flask db upgrade")
    plan = make_plan(bids, today, hash_password(BENCH_PASSWORD))
    say(f"planned {bids:,} bids")
    rng = random.Random(SEED + 1)
    engine = create_engine(url)
    counts: dict[str, int] = {}
    try:
        epoch = plan.users[0]["created_at"]
        fund_rows = [{"id": f + 1, "name": spec.name, "description": spec.description, "funding_source": spec.source,
                      "monitoring_due_days": 31, "reporting_frequency": spec.frequency, "reminder_days": 14,
                      "created_at": epoch} for f, spec in enumerate(FUNDS)]
        fund_year_rows = []
        for (f, year), fy_id in plan.fund_years.items():
            spec = FUNDS[f]
            opens, closes = financial_year_bounds(year)
            committed = plan.committed.get(fy_id, 0)
            budget = min(INT32_MAX, -(-int(committed * 1.25 + 50_000_00) // 1_000_00) * 1_000_00)
            fund_year_rows.append({"id": fy_id, "fund_id": f + 1, "year_start": year, "budget_pence": budget,
                                   "per_bid_cap_pence": spec.per_bid_cap,
                                   "per_applicant_cap_pence": spec.per_applicant_cap,
                                   "delegation_limit_pence": spec.delegation, "committed_pence": committed,
                                   "opens_on": opens, "closes_on": closes})
        tables: list[tuple[Any, Iterable[dict[str, Any]]]] = [
            (m.Organisation, plan.organisations), (m.User, plan.users), (m.Fund, fund_rows),
            (m.FundYear, fund_year_rows), (m.OutcomeMeasure, plan.measure_rows), (m.Bid, _bid_rows(plan)),
            (m.BudgetLine, _line_rows(plan)), (m.BidSnapshot, _snapshot_rows(plan)),
            (m.Assessment, _assessment_rows(plan, rng)), (m.Decision, _decision_rows(plan, rng)),
            (m.Award, _award_rows(plan, rng)), (m.GrantAgreement, _agreement_rows(plan)),
            (m.Repayment, _repayment_rows(plan)), (m.Payment, _payment_rows(plan)), (m.MonitoringReturn, _return_rows(plan, rng)),
            (m.MeasureValue, _measure_value_rows(plan, rng)), (m.ReturnSpend, _spend_rows(plan)),
            (m.AuditEvent, _event_rows(plan, rng)), (m.OutboxEmail, _email_rows(plan)),
        ]
        for model, rows in tables:
            table = model.__table__
            counts[table.name] = insert_rows(engine, table, rows)
            say(f"{table.name}: {counts[table.name]:,} rows")
        if engine.dialect.name == "postgresql":
            with engine.begin() as conn:
                # Ids were given here, so each sequence is moved past them.
                for model, _rows in tables:
                    name = model.__table__.name
                    conn.execute(text("SELECT setval(pg_get_serial_sequence(:t, 'id'), "
                                      f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {_quoted(conn, name)}), false)"),
                                 {"t": _quoted(conn, name)})
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                # What autovacuum does after a bulk load: statistics, and the visibility map that lets a count
                # or a page's ids come from an index alone.
                conn.execute(text("VACUUM ANALYZE"))
            say("sequences moved past the ids; VACUUM ANALYZE")
    finally:
        engine.dispose()

    sample = next((b for b in reversed(plan.bids) if b.agreement is not None and b.agreement.status == "active"
                   and b.agreement.payments and b.agreement.returns), None)
    sample = sample or next(b for b in plan.bids if b.award_id)
    awards_by_year: dict[int, int] = defaultdict(int)
    for b in plan.bids:
        if b.award_id:
            awards_by_year[b.year] += 1
    return Built(url=url, bids=bids, counts=counts, seconds=time.perf_counter() - started, years=plan.years,
                 sample_bid_id=sample.id, staff_visible_bids=sum(b.status != "draft" for b in plan.bids),
                 awards_by_year=dict(awards_by_year))


def _quoted(conn: Any, name: str) -> str:
    return str(conn.dialect.identifier_preparer.quote(name))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bids", type=int, default=bench_bids())
    parser.add_argument("--url", help="an empty database (default: a new SQLite file)")
    args = parser.parse_args()
    url = args.url or f"sqlite:///{tempfile.mkdtemp(prefix='grants-national-')}/national.db"
    built = build(url, args.bids)
    print(f"{built.bids:,} bids in {built.seconds:.0f} s at {url}")
    for name, count in built.counts.items():
        print(f"  {name:20} {count:>9,}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
