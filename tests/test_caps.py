"""Cap rules for what a bid may ask for."""

from datetime import date

from grants.assessment.caps import awarded_to_organisation, per_applicant_cap_problem, per_bid_cap_problem
from grants.core.dates import today as uk_today
from grants.core.extensions import db
from grants.core.models import Award, Bid
from tests.conftest import World


def test_per_bid_cap_at_below_and_above(world: World) -> None:
    fy = world.scf_year  # cap £5,000
    for reader in ("applicant", "staff"):
        assert per_bid_cap_problem(fy, 5_000_00, reader=reader) is None
        assert per_bid_cap_problem(fy, 4_999_99, reader=reader) is None
    # Worded for who reads it: the applicant asks, the OPCC's staff award.
    assert per_bid_cap_problem(fy, 5_000_01, reader="applicant") == (
        "£5,000.00 is the most you can ask for from the Safer Communities Fund")
    assert per_bid_cap_problem(fy, 5_000_01, reader="staff") == (
        "£5,000.00 is the most this bid can be awarded from the Safer Communities Fund")


def _award(world: World, amount: int) -> None:
    bid = Bid(organisation_id=world.csp.id, fund_year_id=world.scf_year.id, created_by_id=world.user("applicant").id,
              status="approved")
    db.session.add(bid)
    db.session.flush()
    db.session.add(Award(bid_id=bid.id, fund_year_id=world.scf_year.id, organisation_id=world.csp.id,
                         amount_pence=amount, reasons="r", public_summary="s", approved_by_id=world.user("officer").id))
    db.session.flush()


def test_per_applicant_cap_counts_earlier_awards(world: World) -> None:
    fy = world.scf_year
    assert per_applicant_cap_problem(fy, world.csp.id, 10**9, reader="staff") is None  # no cap set: no limit
    fy.per_applicant_cap_pence = 8_000_00
    _award(world, 5_000_00)
    assert awarded_to_organisation(fy.id, world.csp.id) == 5_000_00
    assert per_applicant_cap_problem(fy, world.csp.id, 3_000_00, reader="staff") is None
    assert per_applicant_cap_problem(fy, world.csp.id, 2_999_99, reader="staff") is None
    assert per_applicant_cap_problem(fy, world.csp.id, 3_000_01, reader="staff") == (
        "An organisation can receive at most £8,000.00 from the Safer Communities Fund in "
        f"{fy.label}; £3,000.00 is left for this organisation"
    )
    assert per_applicant_cap_problem(fy, world.csp.id, 3_000_01, reader="applicant") == (
        "Your organisation can receive at most £8,000.00 from the Safer Communities Fund in "
        f"{fy.label}, so you can ask for up to £3,000.00"
    )
    _award(world, 3_000_00)
    assert per_applicant_cap_problem(fy, world.csp.id, 1, reader="applicant") == (
        "Your organisation can receive at most £8,000.00 from the Safer Communities Fund in "
        f"{fy.label}, and has already been awarded all of it"
    )
    # Another organisation's awards do not count against this one.
    assert per_applicant_cap_problem(fy, world.other_csp.id, 8_000_00, reader="staff") is None


def test_fund_year_open_dates(world: World) -> None:
    fy = world.scf_year
    assert fy.is_open(fy.opens_on) and fy.is_open(fy.closes_on)
    assert not fy.is_open(date.fromordinal(fy.closes_on.toordinal() + 1))
    assert not world.closed_year.is_open(uk_today())
