"""The admin area: funds, their financial years and outcome measures, the standard conditions, organisations,
users, and the email outbox."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select

from grants.admin import queries, rules
from grants.admin.forms import (
    AuditFilterForm,
    ConditionsForm,
    EditOrganisationForm,
    EditUserForm,
    FundForm,
    FundYearForm,
    MeasureForm,
    NewUserForm,
    OrganisationForm,
    SetPasswordForm,
    StandardSetForm,
    UserFilterForm,
)
from grants.agreements import conditions as standard_conditions
from grants.auth import two_factor
from grants.core.access import roles_required
from grants.core.audit import record_event
from grants.core.dates import format_date, today
from grants.core.extensions import db
from grants.core.forms import FORM_PROBLEM, ConfirmForm, required
from grants.core.models import (
    ORG_TYPES,
    ROLE_NAMES,
    ConditionsVersion,
    Fund,
    FundYear,
    Organisation,
    OutboxEmail,
    OutcomeMeasure,
    User,
)
from grants.core.orgid import clean_org_id
from grants.core.paging import ID_RANGE, page_number, query_number
from grants.core.search import search_text
from grants.core.views import PageAnswer, change_page
from grants.monitoring.measures import STANDARD_SETS, delete_measure, has_answers, load_standard_set, retire_measure

bp = Blueprint("admin", __name__, url_prefix="/admin")

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
        reporting_frequency=form.reporting_frequency.data or None,
        reminder_days=form.reminder_days.data,
    )


@bp.route("/funds")
@roles_required("admin")
def funds() -> str:
    return render_template("admin/funds.html", page=queries.fund_list(page_number(request.args)))


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


# Outcome measures ----------------------------------------------------------------------------


def _measure_or_404(fund: Fund, measure_id: int) -> OutcomeMeasure:
    """The fund's measure: an id that is not one of this fund's measures is 404, as a missing one is."""
    measure = db.get_or_404(OutcomeMeasure, measure_id)
    if measure.fund_id != fund.id:
        abort(404)
    return measure


def _measures_context(fund: Fund) -> dict[str, Any]:
    """The measures page: a page of measures, each with whether returns have answered it (then it can only be
    retired)."""
    return {"fund": fund, "page": queries.measure_list(fund, page_number(request.args)), "standard_sets": STANDARD_SETS}


def _measures_url(fund: Fund) -> str:
    return url_for("admin.measures", fund_id=fund.id)


@bp.route("/funds/<int:fund_id>/measures")
@roles_required("admin")
def measures(fund_id: int) -> str:
    fund = db.get_or_404(Fund, fund_id)
    return render_template("admin/measures.html", form=StandardSetForm(formdata=None), **_measures_context(fund))


@bp.route("/funds/<int:fund_id>/measures/standard-set", methods=["POST"])
@roles_required("admin")
def load_measures(fund_id: int) -> PageAnswer:
    """The standard set form on the measures page; a problem is shown there, beside the choice."""
    fund = db.get_or_404(Fund, fund_id)
    form = StandardSetForm()

    def perform() -> rules.Problems | str:
        set_key = form.set_key.data or ""
        title = STANDARD_SETS[set_key][0]
        added = load_standard_set(fund, set_key, _actor())
        if not added:
            return {"set_key": f"The {fund.name} already has every measure in the {title} set"}
        return f"{added} {'measure' if added == 1 else 'measures'} from the {title} set added to the {fund.name}."

    return change_page(form, "admin/measures.html", perform, _measures_url(fund), **_measures_context(fund))


def _measure_values(form: MeasureForm) -> rules.MeasureValues:
    return rules.MeasureValues(
        name=form.name.data or "",
        guidance=form.guidance.data or "",
        unit=form.unit.data or "",
        required=form.required_value,
        category=form.category.data or "",
    )


@bp.route("/funds/<int:fund_id>/measures/new", methods=["GET", "POST"])
@roles_required("admin")
def new_measure(fund_id: int) -> PageAnswer:
    fund = db.get_or_404(Fund, fund_id)
    form = MeasureForm()

    def perform() -> rules.Problems | str:
        measure, problems = rules.add_fund_measure(_actor(), fund, _measure_values(form))
        return problems if measure is None else f"{measure.name} has been added to the {fund.name}."

    return change_page(form, "admin/measure_form.html", perform, _measures_url(fund), fund=fund, measure=None,
                       answered=False)


@bp.route("/funds/<int:fund_id>/measures/<int:measure_id>/edit", methods=["GET", "POST"])
@roles_required("admin")
def edit_measure(fund_id: int, measure_id: int) -> PageAnswer:
    fund = db.get_or_404(Fund, fund_id)
    measure = _measure_or_404(fund, measure_id)
    if request.method == "GET":
        form = MeasureForm(data={"name": measure.name, "guidance": measure.guidance, "unit": measure.unit,
                                 "required": "yes" if measure.required else "no", "category": measure.category})
    else:
        form = MeasureForm()

    def perform() -> rules.Problems | str:
        changed, problems = rules.change_fund_measure(_actor(), measure, _measure_values(form))
        return problems or (f"{measure.name} has been changed." if changed else NOTHING_CHANGED)

    return change_page(form, "admin/measure_form.html", perform, _measures_url(fund), fund=fund, measure=measure,
                       answered=has_answers(measure))


@bp.route("/funds/<int:fund_id>/measures/<int:measure_id>/retire", methods=["GET", "POST"], endpoint="retire_measure")
@roles_required("admin")
def retire_measure_page(fund_id: int, measure_id: int) -> PageAnswer:
    fund = db.get_or_404(Fund, fund_id)
    measure = _measure_or_404(fund, measure_id)
    name = measure.name

    def perform() -> str:
        retire_measure(measure, _actor())
        return f"{name} has been retired: returns from now on will not ask for it."

    return change_page(ConfirmForm(), "admin/measure_confirm.html", perform, _measures_url(fund), fund=fund,
                       measure=measure, action="retire",
                       blocked="This measure is already retired." if measure.retired_at else None)


@bp.route("/funds/<int:fund_id>/measures/<int:measure_id>/delete", methods=["GET", "POST"], endpoint="delete_measure")
@roles_required("admin")
def delete_measure_page(fund_id: int, measure_id: int) -> PageAnswer:
    fund = db.get_or_404(Fund, fund_id)
    measure = _measure_or_404(fund, measure_id)
    name = measure.name
    answered = has_answers(measure)

    def perform() -> str:
        delete_measure(measure, _actor())
        return f"{name} has been deleted."

    return change_page(ConfirmForm(), "admin/measure_confirm.html", perform, _measures_url(fund), fund=fund,
                       measure=measure, action="delete",
                       blocked="Returns have answered this measure, so it cannot be deleted." if answered else None)


# Standard conditions -------------------------------------------------------------------------


@bp.route("/conditions")
@roles_required("admin")
def conditions() -> str:
    return render_template("admin/conditions.html",
                           page=standard_conditions.version_list(page_number(request.args), today()))


def _conditions_values(form: ConditionsForm) -> standard_conditions.ConditionsValues:
    return standard_conditions.ConditionsValues(text=form.text.data or "", effective_from=form.effective_from.data)


@bp.route("/conditions/new", methods=["GET", "POST"])
@roles_required("admin")
def new_conditions() -> PageAnswer:
    form = ConditionsForm()
    latest = standard_conditions.latest()
    if request.method == "GET" and latest is not None:
        form.text.data = latest.text  # a new version starts from the last one's words

    def perform() -> rules.Problems | str:
        version, problems = standard_conditions.add_version(_actor(), _conditions_values(form), today())
        return problems if version is None else (
            f"Version {version.number} of the standard conditions has been added. Agreements prepared from "
            f"{format_date(version.effective_from)} take it.")

    return change_page(form, "admin/conditions_form.html", perform, url_for("admin.conditions"),
                       conditions_version=None, latest=latest)


def _added_by(version: ConditionsVersion) -> User | None:
    return db.session.get(User, version.created_by_id) if version.created_by_id else None


@bp.route("/conditions/<int:version_id>")
@roles_required("admin")
def conditions_version(version_id: int) -> str:
    version = db.get_or_404(ConditionsVersion, version_id)
    uses = standard_conditions.uses(version)
    return render_template("admin/conditions_version.html", conditions_version=version, uses=uses,
                           added_by=_added_by(version), locked=standard_conditions.locked_because(version, today(), uses),
                           state=standard_conditions.state_of(version, today(), standard_conditions.in_force(today())))


@bp.route("/conditions/<int:version_id>/edit", methods=["GET", "POST"])
@roles_required("admin")
def edit_conditions(version_id: int) -> PageAnswer:
    version = db.get_or_404(ConditionsVersion, version_id)
    if request.method == "GET":
        form = ConditionsForm(data={"text": version.text})
        form.effective_from.raw_data = [str(version.effective_from.day), str(version.effective_from.month),
                                        str(version.effective_from.year)]
    else:
        form = ConditionsForm()

    def perform() -> rules.Problems | str:
        changed, problems = standard_conditions.change_version(_actor(), version, _conditions_values(form), today())
        return problems or (f"Version {version.number} of the standard conditions has been changed." if changed
                            else NOTHING_CHANGED)

    return change_page(form, "admin/conditions_form.html", perform,
                       url_for("admin.conditions_version", version_id=version.id), conditions_version=version,
                       locked=standard_conditions.locked_because(version, today()))


# Organisations -------------------------------------------------------------------------------


def _organisation_values(form: OrganisationForm, active: bool = True) -> rules.OrganisationValues:
    return rules.OrganisationValues(
        name=(form.name.data or "").strip(),
        org_type=form.org_type.data or "",
        org_identifier=clean_org_id(form.org_identifier.data),
        charity_number=rules.clean_code(form.charity_number.data),
        company_number=rules.clean_company_number(form.company_number.data),
        postcode=rules.clean_postcode(form.postcode.data),
        district_code=rules.clean_code(form.district_code.data),
        district_name=(form.district_name.data or "").strip() or None,
        active=active,
    )


@bp.route("/organisations")
@roles_required("admin")
def organisations() -> str:
    return render_template("admin/organisations.html", page=queries.organisation_list(page_number(request.args)),
                           org_types=ORG_TYPES)


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


@bp.route("/users")
@roles_required("admin")
def users() -> str:
    form = UserFilterForm(formdata=request.args)
    form.role.choices = [("", "All roles"), *ROLE_NAMES.items()]
    # Unknown filter values are ignored rather than treated as errors: this is a read-only page.
    if form.role.data not in ROLE_NAMES:
        form.role.data = ""
    # An organisation is chosen by following a link (an organisation's users), not from a list of every one.
    organisation_id = query_number(request.args, "organisation", ID_RANGE)
    search = search_text(request.args)
    form.q.data = search
    page = queries.user_list(form.role.data or None, organisation_id, search, page_number(request.args))
    args = {name: value for name, value in (("q", search), ("role", form.role.data),
                                            ("organisation", organisation_id)) if value}
    return render_template("admin/users.html", page=page, filter_form=form, filtered=bool(args), args=args,
                           organisation_id=organisation_id,
                           organisation=queries.organisation_name(organisation_id) if organisation_id else None)


@bp.route("/users/new", methods=["GET", "POST"])
@roles_required("admin")
def new_user() -> PageAnswer:
    form = NewUserForm()
    form.organisation_id.choices = queries.organisation_choices()

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
    form.organisation_id.choices = queries.organisation_choices(user.organisation_id)

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


@bp.route("/users/<int:user_id>/two-step", methods=["GET", "POST"])
@roles_required("admin")
def reset_two_step(user_id: int) -> PageAnswer:
    """Reset a user's second factor (a lost phone and no recovery codes left): they are signed out, and
    staff set up a new authenticator at their next sign-in."""
    user = db.get_or_404(User, user_id)

    def perform() -> rules.Problems | str:
        if not two_factor.is_set_up(user) and not user.totp_secret:
            return {FORM_PROBLEM: f"{user.name} has no two-step verification to reset."}
        two_factor.turn_off(user, _actor(), action="user.two_factor_reset")
        return f"Two-step verification has been reset for {user.name}. They have been signed out everywhere."

    return change_page(ConfirmForm(), "admin/user_two_step.html", perform,
                       url_for("auth.sign_in") if user.id == current_user.id else url_for("admin.users"), user=user,
                       required=two_factor.required_for(user))


# Outbox --------------------------------------------------------------------------------------


@bp.route("/outbox")
@roles_required("admin")
def outbox() -> str:
    return render_template("admin/outbox.html", page=queries.outbox_list(page_number(request.args)))


@bp.route("/outbox/<int:message_id>")
@roles_required("admin")
def outbox_message(message_id: int) -> str:
    message = db.get_or_404(OutboxEmail, message_id)
    # Messages can hold single-use links (password resets): who read one is on the record.
    record_event(_actor(), "outbox.viewed", message, note=f"to {message.to_address}: {message.subject}")
    db.session.commit()
    return render_template("admin/outbox_message.html", message=message)


# Audit events --------------------------------------------------------------------------------


AUDIT_FILTERS = ("object_type", "action", "who", "actor", "date_from", "date_to")


@bp.route("/audit")
@roles_required("admin")
def audit() -> str:
    form = AuditFilterForm(formdata=request.args)
    choices = queries.audit_choices()
    form.object_type.choices = [("", "All record types"), *choices["object_types"]]
    form.action.choices = [("", "All actions"), *choices["actions"]]
    # Unknown choices are ignored rather than treated as errors, as on the users page: this page only reads.
    for field in (form.object_type, form.action):
        if field.data not in {value for value, _label in field.choices}:
            field.data = ""
    form.validate()  # only the dates can be wrong; a wrong one is said, and not filtered by
    filters = queries.AuditFilters(
        object_type=form.object_type.data or None,
        action=form.action.data or None,
        # One person's events, from a link (their user page); or whoever's name or email holds what was typed.
        actor_id=query_number(request.args, "actor", ID_RANGE),
        who=search_text(request.args, "who"),
        date_from=None if form.date_from.errors else form.date_from.data,
        date_to=None if form.date_to.errors else form.date_to.data,
    )
    page = queries.audit_list(filters, page_number(request.args))
    args = {name: values for name, values in request.args.lists() if name in AUDIT_FILTERS and any(values)}
    # Passed as `form` too, so the layout's error summary lists a wrong date.
    return render_template("admin/audit.html", page=page, rows=queries.audit_rows(page.items), filter_form=form,
                           form=form, filtered=bool(args), args=args)
