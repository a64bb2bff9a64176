"""The admin area: funds and their financial years, organisations, users, and the email outbox."""

from __future__ import annotations

from flask import Blueprint, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select

from grants.admin import rules
from grants.admin.forms import (
    EditOrganisationForm,
    EditUserForm,
    FundForm,
    FundYearForm,
    NewUserForm,
    OrganisationForm,
    SetPasswordForm,
    UserFilterForm,
)
from grants.core.access import roles_required
from grants.core.audit import record_event
from grants.core.extensions import db
from grants.core.forms import required
from grants.core.models import ORG_TYPES, ROLE_NAMES, Fund, FundYear, Organisation, OutboxEmail, User
from grants.core.views import PageAnswer, change_page

bp = Blueprint("admin", __name__, url_prefix="/admin")

OUTBOX_PAGE_SIZE = 50
NOTHING_CHANGED = "Nothing was changed."


def _actor() -> User:
    return current_user._get_current_object()  # type: ignore[no-any-return]


@bp.route("/")
@roles_required("admin")
def index() -> str:
    counts = {
        "funds": db.session.scalar(select(func.count(Fund.id))),
        "organisations": db.session.scalar(select(func.count(Organisation.id))),
        "users": db.session.scalar(select(func.count(User.id)).where(User.active.is_(True))),
        "unsent": db.session.scalar(select(func.count(OutboxEmail.id)).where(OutboxEmail.sent_at.is_(None))),
    }
    return render_template("admin/index.html", counts=counts)


# Funds ---------------------------------------------------------------------------------------


def _fund_values(form: FundForm) -> rules.FundValues:
    return rules.FundValues(
        name=(form.name.data or "").strip(),
        description=(form.description.data or "").strip(),
        funding_source=form.funding_source.data or "",
        monitoring_due_days=required(form.monitoring_due_days.data),
    )


@bp.route("/funds")
@roles_required("admin")
def funds() -> str:
    all_funds = db.session.scalars(select(Fund).order_by(Fund.name)).all()
    return render_template("admin/funds.html", funds=all_funds)


@bp.route("/funds/new", methods=["GET", "POST"])
@roles_required("admin")
def new_fund() -> PageAnswer:
    form = FundForm()

    def perform() -> rules.Problems | str:
        fund, problems = rules.create_fund(_actor(), _fund_values(form))
        return problems if fund is None else f"{fund.name} has been created. Add a financial year to open it for bids."

    return change_page(form, "admin/fund_form.html", perform, url_for("admin.funds"), fund=None)


@bp.route("/funds/<int:fund_id>/edit", methods=["GET", "POST"])
@roles_required("admin")
def edit_fund(fund_id: int) -> PageAnswer:
    fund = db.get_or_404(Fund, fund_id)
    form = FundForm(obj=fund) if request.method == "GET" else FundForm()

    def perform() -> rules.Problems | str:
        changed, problems = rules.update_fund(_actor(), fund, _fund_values(form))
        return problems or (f"{fund.name} has been updated." if changed else NOTHING_CHANGED)

    return change_page(form, "admin/fund_form.html", perform, url_for("admin.funds"), fund=fund)


def _fund_year_values(form: FundYearForm) -> rules.FundYearValues:
    return rules.FundYearValues(
        year_start=required(form.year_start.data),
        budget_pence=required(form.budget_pence.data),
        per_bid_cap_pence=required(form.per_bid_cap_pence.data),
        per_applicant_cap_pence=form.per_applicant_cap_pence.data,
        delegation_limit_pence=required(form.delegation_limit_pence.data),
        opens_on=required(form.opens_on.data),
        closes_on=required(form.closes_on.data),
    )


@bp.route("/funds/<int:fund_id>/years/new", methods=["GET", "POST"])
@roles_required("admin")
def new_fund_year(fund_id: int) -> PageAnswer:
    fund = db.get_or_404(Fund, fund_id)
    form = FundYearForm()

    def perform() -> rules.Problems | str:
        fund_year, problems = rules.create_fund_year(_actor(), fund, _fund_year_values(form))
        return problems if fund_year is None else f"{fund.name} {fund_year.label} has been added."

    return change_page(form, "admin/fund_year_form.html", perform, url_for("admin.funds"), fund=fund,
                       fund_year=None)


@bp.route("/fund-years/<int:fund_year_id>/edit", methods=["GET", "POST"])
@roles_required("admin")
def edit_fund_year(fund_year_id: int) -> PageAnswer:
    fund_year = db.get_or_404(FundYear, fund_year_id)
    form = FundYearForm(obj=fund_year) if request.method == "GET" else FundYearForm()

    def perform() -> rules.Problems | str:
        changed, problems = rules.update_fund_year(_actor(), fund_year, _fund_year_values(form))
        return problems or (f"{fund_year.fund.name} {fund_year.label} has been updated." if changed
                            else NOTHING_CHANGED)

    return change_page(form, "admin/fund_year_form.html", perform, url_for("admin.funds"), fund=fund_year.fund,
                       fund_year=fund_year)


# Organisations -------------------------------------------------------------------------------


def _organisation_values(form: OrganisationForm, active: bool = True) -> rules.OrganisationValues:
    return rules.OrganisationValues(
        name=(form.name.data or "").strip(),
        org_type=form.org_type.data or "",
        org_identifier=rules.clean_org_identifier(form.org_identifier.data),
        active=active,
    )


@bp.route("/organisations")
@roles_required("admin")
def organisations() -> str:
    rows = db.session.execute(
        select(Organisation, func.count(User.id))
        .outerjoin(User, (User.organisation_id == Organisation.id) & User.active.is_(True))
        .group_by(Organisation.id)
        .order_by(Organisation.name)
    ).all()
    return render_template("admin/organisations.html", rows=rows, org_types=ORG_TYPES)


@bp.route("/organisations/new", methods=["GET", "POST"])
@roles_required("admin")
def new_organisation() -> PageAnswer:
    form = OrganisationForm()

    def perform() -> rules.Problems | str:
        organisation, problems = rules.create_organisation(_actor(), _organisation_values(form))
        return problems if organisation is None else f"{organisation.name} has been added."

    return change_page(form, "admin/organisation_form.html", perform, url_for("admin.organisations"),
                       organisation=None)


@bp.route("/organisations/<int:organisation_id>/edit", methods=["GET", "POST"])
@roles_required("admin")
def edit_organisation(organisation_id: int) -> PageAnswer:
    organisation = db.get_or_404(Organisation, organisation_id)
    form = EditOrganisationForm(obj=organisation) if request.method == "GET" else EditOrganisationForm()

    def perform() -> rules.Problems | str:
        changed, problems = rules.update_organisation(
            _actor(), organisation, _organisation_values(form, active=bool(form.active.data))
        )
        return problems or (f"{organisation.name} has been updated." if changed else NOTHING_CHANGED)

    return change_page(form, "admin/organisation_form.html", perform, url_for("admin.organisations"),
                       organisation=organisation)


# Users ---------------------------------------------------------------------------------------


def _organisation_choices(current_id: int | None = None) -> list[tuple[str, str]]:
    """Active organisations, plus the one a user already belongs to even if it is no longer active."""
    query = select(Organisation).order_by(Organisation.name)
    choices = [("", "No organisation")]
    for organisation in db.session.scalars(query):
        if organisation.active or organisation.id == current_id:
            suffix = "" if organisation.active else " (inactive)"
            choices.append((str(organisation.id), organisation.name + suffix))
    return choices


@bp.route("/users")
@roles_required("admin")
def users() -> str:
    form = UserFilterForm(formdata=request.args)
    form.role.choices = [("", "All roles"), *ROLE_NAMES.items()]
    form.organisation.choices = [("", "All organisations")] + [
        (str(o.id), o.name) for o in db.session.scalars(select(Organisation).order_by(Organisation.name))
    ]
    query = select(User).order_by(User.name, User.id)
    valid_roles = {value for value, _label in form.role.choices}
    valid_orgs = {value for value, _label in form.organisation.choices}
    # Unknown filter values are ignored rather than treated as errors: this is a read-only page.
    if form.role.data and form.role.data in valid_roles:
        query = query.where(User.role == form.role.data)
    else:
        form.role.data = ""
    if form.organisation.data and form.organisation.data in valid_orgs:
        query = query.where(User.organisation_id == int(form.organisation.data))
    else:
        form.organisation.data = ""
    filtered = bool(form.role.data or form.organisation.data)
    return render_template("admin/users.html", users=db.session.scalars(query).all(), filter_form=form,
                           filtered=filtered)


@bp.route("/users/new", methods=["GET", "POST"])
@roles_required("admin")
def new_user() -> PageAnswer:
    form = NewUserForm()
    form.organisation_id.choices = _organisation_choices()

    def perform() -> rules.Problems | str:
        values = rules.NewUserValues(
            email=form.email.data or "",
            name=(form.name.data or "").strip(),
            role=form.role.data or "",
            organisation_id=form.organisation_value,
            password=form.password.data or "",
        )
        user, problems = rules.create_user(_actor(), values)
        return problems if user is None else f"An account has been created for {user.name} ({user.email})."

    return change_page(form, "admin/user_new.html", perform, url_for("admin.users"))


@bp.route("/users/<int:user_id>/edit", methods=["GET", "POST"])
@roles_required("admin")
def edit_user(user_id: int) -> PageAnswer:
    user = db.get_or_404(User, user_id)
    if request.method == "GET":
        form = EditUserForm(data={"name": user.name, "role": user.role, "active": user.active,
                                  "organisation_id": str(user.organisation_id or "")})
    else:
        form = EditUserForm()
    form.organisation_id.choices = _organisation_choices(user.organisation_id)

    def perform() -> rules.Problems | str:
        values = rules.UserValues(
            name=(form.name.data or "").strip(),
            role=form.role.data or "",
            organisation_id=form.organisation_value,
            active=bool(form.active.data),
        )
        changed, problems = rules.update_user(_actor(), user, values)
        if problems or not changed:
            return problems or NOTHING_CHANGED
        return f"{user.name} has been updated." if user.active else f"{user.name} has been deactivated and signed out."

    return change_page(form, "admin/user_edit.html", perform, url_for("admin.users"), user=user)


@bp.route("/users/<int:user_id>/password", methods=["GET", "POST"])
@roles_required("admin")
def user_password(user_id: int) -> PageAnswer:
    user = db.get_or_404(User, user_id)
    form = SetPasswordForm()
    # Setting a password ends every session: setting one's own, this one included.
    own = user.id == current_user.id

    def perform() -> rules.Problems | str:
        problems = rules.reset_user_password(_actor(), user, form.password.data or "")
        if problems or own:
            return problems or "Your password has been changed. Sign in with your new password."
        return f"A new password has been set for {user.name}. They have been signed out everywhere."

    return change_page(form, "admin/user_password.html", perform,
                       url_for("auth.sign_in") if own else url_for("admin.users"), user=user)


# Outbox --------------------------------------------------------------------------------------


MAX_OUTBOX_PAGE = 100_000


@bp.route("/outbox")
@roles_required("admin")
def outbox() -> str:
    page = request.args.get("page", 1, type=int)
    messages = db.paginate(
        select(OutboxEmail).order_by(OutboxEmail.created_at.desc(), OutboxEmail.id.desc()),
        # Bounded, so a hostile page number cannot overflow the database's OFFSET.
        page=min(max(page or 1, 1), MAX_OUTBOX_PAGE), per_page=OUTBOX_PAGE_SIZE, error_out=False,
    )
    return render_template("admin/outbox.html", messages=messages)


@bp.route("/outbox/<int:message_id>")
@roles_required("admin")
def outbox_message(message_id: int) -> str:
    message = db.get_or_404(OutboxEmail, message_id)
    # Messages can hold single-use links (password resets): who read one is on the record.
    record_event(_actor(), "outbox.viewed", message, note=f"to {message.to_address}: {message.subject}")
    db.session.commit()
    return render_template("admin/outbox_message.html", message=message)
