"""Who may reach what: every route in app.url_map, every method, every role and signed out.

ACCESS has one line per endpoint: the roles allowed (PUBLIC for pages anyone may read), the record that
fills each URL parameter, and the answer an allowed role gets. Everything else follows from the roles:
signed out -> redirect to /sign-in; signed in with another role -> 403. Two more rows per route with URL
parameters, for those who may reach it: `hidden` names a record they must not even be told exists
(another organisation's record for an applicant, a draft for those it is not yet shared with) -> 404; and
a record that does not exist at all -> 404.

A route added without a line here fails test_every_route_has_an_access_rule, by name; a method added to
a route without an answer for it fails the same test.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask, url_for
from flask.testing import FlaskClient

from grants import create_app
from grants.core.extensions import db
from grants.core.models import AgreementVariation, Bid, GrantAgreement, MonitoringReturn, Payment, Repayment
from tests.records import ROLES, Records, build_records, empty_database, module_app, sign_in_as


@dataclass(frozen=True)
class To:
    """A redirect to this path (record names in braces are filled in; the query string is not compared)."""

    path: str


Answer = int | To
PerRole = Answer | Mapping[str, Answer]  # an answer, or one per role ("*": everyone else)
Source = str | Mapping[str, str]  # a record name, or one per role ("*": everyone else)
SIGNED_OUT = "signed-out"


@dataclass(frozen=True)
class Access:
    roles: frozenset[str] | None  # None: public, anyone signed in or out
    params: Mapping[str, Source]  # URL parameter -> record
    get: PerRole | None = 200
    post: PerRole | None = None  # must be given for a route that accepts POST
    data: Mapping[str, str] = field(default_factory=dict)  # the form posted; "{record}" and "{version}" filled in
    query: Mapping[str, Source] = field(default_factory=dict)  # query string -> record
    hidden: tuple[Mapping[str, Source], ...] = ()  # URL parameters an allowed role must get 404 for


def rule(roles: frozenset[str] | None, *, get: PerRole | None = 200, post: PerRole | None = None,
         data: Mapping[str, str] | None = None, query: Mapping[str, Source] | None = None,
         hidden: Mapping[str, Source] | tuple[Mapping[str, Source], ...] = (), **params: Source) -> Access:
    return Access(roles, params, get, post, data or {}, query or {}, hidden if isinstance(hidden, tuple) else (hidden,))


PUBLIC = None
SIGNED_IN = frozenset(ROLES)
APPLICANT = frozenset({"applicant"})
OFFICER = frozenset({"officer"})
DECIDERS = frozenset({"officer", "approver"})
STAFF = frozenset({"officer", "approver", "finance", "admin"})
GRANTEE_AND_STAFF = SIGNED_IN
FINANCE = frozenset({"finance"})
APPROVER = frozenset({"approver"})
ADMIN = frozenset({"admin"})
# Everyone lands on their own dashboard.
START = {role: To("/dashboard/") for role in ROLES}
VERSION = {"version": "{version}"}
NEW_FUND = {"name": "Youth Fund", "funding_source": "opcc", "monitoring_due_days": "31",
            "reporting_frequency": "half_yearly", "reminder_days": "14"}
EXPORT = {"year": "this_year", "period": "whole_year"}
# Another organisation's agreement (or return) for the grantee; staff see every organisation's.
OTHER_AGREEMENT = {"agreement_id": {"applicant": "agreement_other_active"}}
OWN_DRAFT_AGREEMENT = {"agreement_id": {"applicant": "agreement_draft"}}  # the OPCC's own until issued
OWN_NOTIFICATION = {role: f"notification_{role}" for role in ROLES}

ACCESS: dict[str, Access] = {
    # Public pages.
    "static": rule(PUBLIC, filename="static_file"),
    "main.index": rule(PUBLIC, get={SIGNED_OUT: To("/sign-in"), **START}),
    # Each role's dashboard: one page, its figures chosen by the role (and an applicant's by their organisation).
    "dashboards.index": rule(SIGNED_IN),
    "main.healthz": rule(PUBLIC),
    "main.accessibility": rule(PUBLIC),
    "main.privacy": rule(PUBLIC),
    "public.grants_awarded": rule(PUBLIC),
    # A bid is published once awarded; before that it is no one's business outside the OPCC and the bidder.
    "public.grant": rule(PUBLIC, bid_id="other_approved", hidden={"bid_id": "own_submitted"}),
    "public.threesixty_json": rule(PUBLIC, name="open_data_all_years"),
    "public.threesixty_xlsx": rule(PUBLIC, name="open_data_all_years"),
    "spending.index": rule(PUBLIC),
    "spending.download_csv": rule(PUBLIC, year="this_year"),
    "spending.download_xlsx": rule(PUBLIC, year="this_year"),
    "auth.sign_in": rule(PUBLIC, get={SIGNED_OUT: 200, **START}, post={SIGNED_OUT: 200, **START}),
    "auth.forgot_password": rule(PUBLIC, post=200, data={"email": "nobody@example.invalid"}),
    "auth.reset_password": rule(PUBLIC, post=200, token="reset_token"),
    "auth.sign_out": rule(SIGNED_IN, get=None, post=To("/sign-in")),
    # The second sign-in step: only for someone who has just given the right password in that browser.
    "auth.sign_in_code": rule(PUBLIC, get={SIGNED_OUT: To("/sign-in"), **START},
                              post={SIGNED_OUT: To("/sign-in"), **START}),
    "auth.sign_in_recovery": rule(PUBLIC, get={SIGNED_OUT: To("/sign-in"), **START},
                                  post={SIGNED_OUT: To("/sign-in"), **START}),
    "auth.sign_in_set_up": rule(PUBLIC, get={SIGNED_OUT: To("/sign-in"), **START},
                                post={SIGNED_OUT: To("/sign-in"), **START}),
    # Everyone's own account; staff have their second factor set up already, applicants not yet.
    "auth.account": rule(SIGNED_IN),
    "auth.change_password": rule(SIGNED_IN, post=200),
    "auth.set_up_two_step": rule(SIGNED_IN, get={"applicant": 200, "*": To("/account")},
                                 post={"applicant": 200, "*": To("/account")}),
    "auth.turn_off_two_step": rule(SIGNED_IN, get=None, post=To("/account")),
    "auth.new_recovery_codes": rule(SIGNED_IN, get={"applicant": To("/account"), "*": 200},
                                    post={"applicant": To("/account"), "*": 200}),
    # Applicants: their own organisation's bids only.
    "bids.index": rule(APPLICANT),
    "bids.start": rule(APPLICANT, post=200),
    "bids.edit": rule(APPLICANT, post=To("/bids/{bid_id}/edit"), data={**VERSION, "save": "Save as draft"},
                      bid_id="own_draft", hidden={"bid_id": "other_draft"}),
    "bids.view": rule(APPLICANT, bid_id="own_submitted", hidden={"bid_id": "other_submitted"}),
    "bids.withdraw": rule(APPLICANT, post=To("/bids/"), bid_id="own_submitted", hidden={"bid_id": "other_submitted"}),
    # A bid's supporting documents: added and removed by its own organisation while it may change the bid; read
    # by the organisation and, once submitted, by the OPCC. Posted with no file: the page says to choose one.
    "bids.documents": rule(APPLICANT, post=200, data={"description": "Quote"}, bid_id="own_draft",
                           hidden={"bid_id": "other_draft"}),
    "bids.remove": rule(APPLICANT, post=To("/bids/{bid_id}/documents"), bid_id="own_draft",
                        document_id="document_draft",
                        hidden=({"bid_id": "other_draft", "document_id": "document_other"},
                                {"bid_id": "own_draft", "document_id": "document_other"})),
    "bids.document": rule(GRANTEE_AND_STAFF, document_id="document_own",
                          hidden={"document_id": {"applicant": "document_other", "*": "document_draft"}}),
    # The OPCC: every organisation's bids once submitted; drafts stay the applicant's.
    "assessment.index": rule(STAFF),
    "assessment.download": rule(STAFF),
    "assessment.bid": rule(STAFF, bid_id="other_submitted", hidden={"bid_id": "own_draft"}),
    "assessment.assess": rule(OFFICER, post=200, data=VERSION, bid_id="own_submitted", hidden={"bid_id": "own_draft"}),
    "assessment.request_information": rule(OFFICER, post=To("/assess/bids/{bid_id}"),
                                           data={**VERSION, "message": "Which wards?"}, bid_id="own_submitted",
                                           hidden={"bid_id": "own_draft"}),
    "assessment.reject": rule(DECIDERS, post=200, data=VERSION, hidden={"bid_id": "own_draft"},
                              bid_id={"officer": "own_submitted", "approver": "own_recommended"}),
    "assessment.award": rule(DECIDERS, post=200, data=VERSION, hidden={"bid_id": "own_draft"},
                             bid_id={"officer": "own_in_review", "approver": "own_recommended"}),
    "assessment.declare_conflict": rule(DECIDERS, post=To("/assess/bids/{bid_id}"), data={"details": "My sister"},
                                        hidden={"bid_id": "own_draft"},
                                        bid_id={"officer": "own_submitted", "approver": "own_recommended"}),
    # Grant agreements and payments: a grantee sees its own once issued; staff see all.
    "agreements.index": rule(GRANTEE_AND_STAFF),
    "agreements.view": rule(GRANTEE_AND_STAFF, agreement_id="agreement_active",
                            hidden=(OTHER_AGREEMENT, OWN_DRAFT_AGREEMENT)),
    # The agreement as a PDF: exactly whoever may see its page.
    "agreements.pdf": rule(GRANTEE_AND_STAFF, agreement_id="agreement_active",
                           hidden=(OTHER_AGREEMENT, OWN_DRAFT_AGREEMENT)),
    "agreements.prepare": rule(OFFICER, post=200, bid_id="own_approved", hidden={"bid_id": "own_submitted"}),  # no award
    "agreements.edit": rule(OFFICER, post=200, data=VERSION, agreement_id="agreement_draft"),
    "agreements.issue": rule(OFFICER, get=None, post=To("/agreements/{agreement_id}"), data=VERSION,
                             agreement_id="agreement_draft"),
    "agreements.activate": rule(OFFICER, get=None, post=To("/agreements/{agreement_id}"), data=VERSION,
                                agreement_id="agreement_accepted"),
    "agreements.accept": rule(APPLICANT, post=200, data=VERSION, agreement_id="agreement_issued",
                              hidden=(OTHER_AGREEMENT, OWN_DRAFT_AGREEMENT)),
    "agreements.end": rule(OFFICER, post=200, data=VERSION, agreement_id="agreement_active"),
    # Variations: proposed by officers, decided by approvers above the delegation limit, accepted by the grantee,
    # who sees only what has been offered to it.
    "variations.propose": rule(OFFICER, post=200, data=VERSION, agreement_id="agreement_active"),
    "variations.view": rule(GRANTEE_AND_STAFF, variation_id="variation_offered",
                            hidden={"variation_id": {"applicant": "variation_other"}}),
    # Approving needs no words: a form from an older version of the variation is posted, so nothing changes.
    "variations.approve": rule(APPROVER, post=409, data={"version": "0"}, variation_id="variation_awaiting_approval"),
    "variations.refuse": rule(APPROVER, post=200, data=VERSION, variation_id="variation_awaiting_approval"),
    "variations.withdraw": rule(OFFICER, post=200, data=VERSION, variation_id="variation_offered"),
    "variations.accept": rule(APPLICANT, post=200, data=VERSION, variation_id="variation_offered",
                              hidden=({"variation_id": "variation_other"},
                                      {"variation_id": "variation_awaiting_approval"})),
    "variations.decline": rule(APPLICANT, post=200, data=VERSION, variation_id="variation_offered",
                               hidden={"variation_id": "variation_other"}),
    "payments.new": rule(FINANCE, post=200, agreement_id="agreement_active"),
    "payments.paid": rule(FINANCE, post=200, data=VERSION, payment_id="payment_scheduled"),
    "payments.cancel": rule(FINANCE, post=200, data=VERSION, payment_id="payment_scheduled"),
    # Repayments: officers ask for them from an agreement; finance records money received and writes off.
    "repayments.new": rule(OFFICER, post=200, data=VERSION, agreement_id="agreement_active"),
    "repayments.receive": rule(FINANCE, post=200, repayment_id="repayment_due"),
    "repayments.write_off": rule(FINANCE, post=200, data=VERSION, repayment_id="repayment_due"),
    # Monitoring returns: completed by the grantee, reviewed by officers.
    "monitoring.index": rule(GRANTEE_AND_STAFF),
    "monitoring.view": rule(GRANTEE_AND_STAFF, return_id="return_due",
                            hidden={"return_id": {"applicant": "return_other"}}),
    "monitoring.edit": rule(APPLICANT, post=To("/monitoring/{return_id}/edit"), data={**VERSION, "save": "Save"},
                            return_id="return_due", hidden={"return_id": "return_other"}),
    "monitoring.review": rule(OFFICER, post=200, data=VERSION, return_id="return_submitted"),
    "monitoring.evidence": rule(GRANTEE_AND_STAFF, evidence_id="evidence_own",
                                hidden={"evidence_id": {"applicant": "evidence_other"}}),
    # Finance: the exports page and its downloads.
    "finance.index": rule(STAFF),
    "finance.grants_register": rule(STAFF, query=EXPORT),
    "finance.government_return": rule(STAFF, query={**EXPORT, "source": "moj"}),
    "finance.payments": rule(STAFF, query=EXPORT),
    # Administration.
    "admin.index": rule(ADMIN),
    "admin.funds": rule(ADMIN),
    "admin.new_fund": rule(ADMIN, post=To("/admin/funds"), data=NEW_FUND),
    "admin.edit_fund": rule(ADMIN, post=To("/admin/funds"), data=NEW_FUND, fund_id="fund"),
    "admin.new_fund_year": rule(ADMIN, post=200, fund_id="fund"),
    # A fund's outcome measures; a measure named under another fund is not found.
    "admin.measures": rule(ADMIN, fund_id="measure_fund"),
    "admin.load_measures": rule(ADMIN, get=None, post=To("/admin/funds/{fund_id}/measures"),
                                data={"set_key": "home-office-crime"}, fund_id="measure_fund"),
    "admin.new_measure": rule(ADMIN, post=200, fund_id="measure_fund"),
    "admin.edit_measure": rule(ADMIN, post=200, fund_id="measure_fund", measure_id="measure",
                               hidden={"fund_id": "fund", "measure_id": "measure"}),
    "admin.retire_measure": rule(ADMIN, post=To("/admin/funds/{fund_id}/measures"), fund_id="measure_fund",
                                 measure_id="measure", hidden={"fund_id": "fund", "measure_id": "measure"}),
    "admin.delete_measure": rule(ADMIN, post=To("/admin/funds/{fund_id}/measures"), fund_id="measure_fund",
                                 measure_id="measure", hidden={"fund_id": "fund", "measure_id": "measure"}),
    "admin.edit_fund_year": rule(ADMIN, post=200, fund_year_id="fund_year"),
    # Versions of the standard conditions; only one not yet in force that no agreement uses can be changed.
    "admin.conditions": rule(ADMIN),
    "admin.new_conditions": rule(ADMIN, post=200),
    "admin.conditions_version": rule(ADMIN, version_id="conditions_version"),
    "admin.edit_conditions": rule(ADMIN, post=200, version_id="conditions_future"),
    "admin.organisations": rule(ADMIN),
    "admin.new_organisation": rule(ADMIN, post=To("/admin/organisations"),
                                   data={"name": "Fenland District Council", "org_type": "other"}),
    "admin.edit_organisation": rule(ADMIN, post=200, organisation_id="org_other"),
    "admin.users": rule(ADMIN),
    "admin.new_user": rule(ADMIN, post=200),
    "admin.edit_user": rule(ADMIN, post=200, user_id="user"),
    "admin.user_password": rule(ADMIN, post=200, user_id="user"),
    "admin.reset_two_step": rule(ADMIN, post=200, user_id="user"),
    "admin.outbox": rule(ADMIN),
    "admin.outbox_message": rule(ADMIN, message_id="outbox_email"),
    "admin.audit": rule(ADMIN),
    # Notifications: everyone's own emails; anyone else's is not found. Opening one marks it read (GET).
    "notifications.index": rule(SIGNED_IN),
    "notifications.view": rule(SIGNED_IN, message_id=OWN_NOTIFICATION,
                               hidden={"message_id": {"applicant": "notification_other_applicant",
                                                      "*": "notification_applicant"}}),
    "notifications.read_all": rule(SIGNED_IN, get=None, post=To("/notifications/")),
}
# The record whose version a form carries, by the URL parameter that names it.
VERSIONED = {"bid_id": Bid, "agreement_id": GrantAgreement, "payment_id": Payment, "repayment_id": Repayment,
             "return_id": MonitoringReturn, "variation_id": AgreementVariation}

IGNORED_METHODS = {"HEAD", "OPTIONS"}
IDENTITIES = (SIGNED_OUT, *ROLES)
HIDDEN, MISSING = "hidden", "missing"  # variants: a record not to be shown to them; a record that does not exist
# Only the URL map of this app is read; requests go to the module's own app below.
URL_MAP_APP = create_app("testing")


def routes(app: Flask) -> list[tuple[str, str]]:
    """(endpoint, method) for every rule in the URL map."""
    return sorted({(r.endpoint, m) for r in app.url_map.iter_rules() for m in (r.methods or set()) - IGNORED_METHODS})


def pick(source: Mapping[str, Any], identity: str) -> Any:
    return source[identity] if identity in source else source.get("*")


def hidden_params(access: Access, identity: str) -> list[dict[str, str]]:
    """The URL parameters of each record hidden from this identity."""
    found = []
    for hidden in access.hidden:
        chosen = {name: source if isinstance(source, str) else pick(source, identity) for name, source in hidden.items()}
        if None not in chosen.values():
            found.append(chosen)
    return found


def _cases() -> Iterator[Any]:
    for endpoint, method in routes(URL_MAP_APP):
        for identity in IDENTITIES:
            yield pytest.param(endpoint, method, identity, "", id=f"{endpoint}-{method}-{identity}")
        access = ACCESS.get(endpoint)
        if access is None or not access.params:
            continue
        for identity in IDENTITIES if access.roles is None else sorted(access.roles):
            for n, _ in enumerate(hidden_params(access, identity)):
                variant = f"{HIDDEN}-{n}"
                yield pytest.param(endpoint, method, identity, variant, id=f"{endpoint}-{method}-{identity}-{variant}")
            yield pytest.param(endpoint, method, identity, MISSING, id=f"{endpoint}-{method}-{identity}-{MISSING}")


def test_every_route_has_an_access_rule() -> None:
    in_map = {endpoint for endpoint, _ in routes(URL_MAP_APP)}
    missing = sorted(in_map - ACCESS.keys())
    assert not missing, f"routes with no line in ACCESS (tests/test_access_matrix.py): {', '.join(missing)}"
    stale = sorted(ACCESS.keys() - in_map)
    assert not stale, f"ACCESS lines for routes that no longer exist: {', '.join(stale)}"
    undeclared = [f"{endpoint} {method}" for endpoint, method in routes(URL_MAP_APP)
                  if (ACCESS[endpoint].get if method == "GET" else ACCESS[endpoint].post) is None]
    assert not undeclared, f"ACCESS gives no answer for: {', '.join(undeclared)}"


def test_the_matrix_covers_every_route_for_every_identity() -> None:
    """The parametrisation below really is the whole map: each (endpoint, method) once per identity."""
    cases = {(p.values[0], p.values[1], p.values[2]) for p in _cases() if p.values[3] == ""}
    assert cases == {(e, m, i) for e, m in routes(URL_MAP_APP) for i in IDENTITIES}


def expected(access: Access, identity: str, method: str) -> Answer:
    if access.roles is not None:
        if identity == SIGNED_OUT:
            return To("/sign-in")
        if identity not in access.roles:
            return 403
    declared = access.get if method == "GET" else access.post
    assert declared is not None, f"ACCESS gives no answer for {method}"
    return pick(declared, identity) if isinstance(declared, Mapping) else declared


@pytest.fixture(scope="module")
def matrix_app(tmp_path_factory: pytest.TempPathFactory, database_uri_base: str | None) -> Iterator[Flask]:
    yield from module_app(tmp_path_factory, database_uri_base, "matrix")


class _Built:
    """The records last built, and whether every case since has only read them (so they can be reused)."""

    records: Records | None = None
    untouched = False


@pytest.fixture()
def records(matrix_app: Flask) -> Records:
    if _Built.records is None or not _Built.untouched:
        empty_database(matrix_app)
        _Built.records = build_records(matrix_app)
    _Built.untouched = False  # until this case has passed without being able to change anything
    return _Built.records


def resolve(sources: Mapping[str, Source], identity: str, records: Records) -> dict[str, Any]:
    values = {}
    for name, source in sources.items():
        if not isinstance(source, str):
            source = pick(source, identity) or next(iter(source.values()))
        values[name] = records[source]
    return values


def missing(value: Any) -> Any:
    """An id (or name) of the same kind that no record has."""
    return 2_000_000_000 if isinstance(value, int) else f"missing-{value}"


def version_of(app: Flask, params: Mapping[str, Any]) -> str:
    with app.app_context():
        for name, model in VERSIONED.items():
            if name in params:
                found = db.session.get(model, params[name])
                db.session.remove()
                return str(found.version) if found is not None else ""
    return ""


@pytest.mark.parametrize(("endpoint", "method", "identity", "variant"), list(_cases()))
def test_access(matrix_app: Flask, records: Records, endpoint: str, method: str, identity: str, variant: str) -> None:
    access = ACCESS.get(endpoint)
    assert access is not None, f"{endpoint} has no line in ACCESS: add who may reach it"
    if variant.startswith(HIDDEN):
        params = resolve(hidden_params(access, identity)[int(variant.split("-")[1])], identity, records)
    else:
        params = resolve(access.params, identity, records)
    if variant == MISSING:
        params = {name: missing(value) for name, value in params.items()}
    with matrix_app.test_request_context():
        url = url_for(endpoint, _method=method, **params, **resolve(access.query, identity, records))
    context = {**records.ids, **params, "version": version_of(matrix_app, params)}
    client: FlaskClient = matrix_app.test_client()
    sign_in_as(client, records, None if identity == SIGNED_OUT else identity)
    if method == "GET":
        response = client.get(url)
    else:
        response = client.open(url, method=method, data={k: v.format(**context) for k, v in access.data.items()})
    answer: Answer = 404 if variant else expected(access, identity, method)
    denied = bool(variant) or (access.roles is not None and identity not in access.roles)
    where = f"{method} {url} as {identity}"
    if isinstance(answer, To):
        assert response.status_code in (301, 302, 303), f"{where}: {response.status_code}, expected a redirect to {answer.path}"
        location = urlsplit(response.headers["Location"]).path
        assert location == answer.path.format(**context), f"{where}: redirected to {location}"
    else:
        assert response.status_code == answer, f"{where}: {response.status_code}, expected {answer}"
    _Built.untouched = method == "GET" or denied
