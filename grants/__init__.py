"""OPCC grants: the application factory."""

from __future__ import annotations

import os
from typing import Any

from flask import Flask
from jinja2 import ChoiceLoader, FileSystemLoader, PackageLoader, PrefixLoader
from werkzeug.middleware.proxy_fix import ProxyFix

from grants.core.config import DEV_SECRET_KEY, PROJECT_ROOT, config_for
from grants.core.database import commit_read_only_requests
from grants.core.extensions import csrf, db, login_manager, migrate
from grants.core.requests import GrantsRequest, RecordIdConverter


def create_app(env: str | None = None, **overrides: Any) -> Flask:
    app = Flask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder="static",
    )
    app.request_class = GrantsRequest
    app.url_map.converters["int"] = RecordIdConverter
    app.config.from_object(config_for(env or os.environ.get("APP_ENV")))
    app.config.update(overrides)
    if app.config["APP_ENV"] == "production" and app.config["SECRET_KEY"] == DEV_SECRET_KEY:
        raise RuntimeError("Refusing to start in production with the development SECRET_KEY: set SECRET_KEY")
    if app.config.get("TRUST_PROXY"):
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)  # type: ignore[method-assign]

    app.jinja_loader = ChoiceLoader(
        [
            FileSystemLoader(str(PROJECT_ROOT / "templates")),
            PrefixLoader(
                {
                    "govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja"),
                    "govuk_frontend_wtf": PackageLoader("govuk_frontend_wtf"),
                }
            ),
        ]
    )
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    db.init_app(app)
    commit_read_only_requests(app, db)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"))
    csrf.init_app(app)
    login_manager.init_app(app)

    from grants.cli import register_commands
    from grants.core import database, models  # noqa: F401  (engine settings; register the models)
    from grants.core.errors import init_errors
    from grants.core.security import init_security
    from grants.core.templating import init_templating

    init_security(app)
    init_templating(app)
    init_errors(app)
    register_commands(app)

    from grants.admin.routes import bp as admin_bp
    from grants.agreements.routes import bp as agreements_bp
    from grants.assessment.routes import bp as assessment_bp
    from grants.auth.routes import bp as auth_bp
    from grants.bids.routes import bp as bids_bp
    from grants.dashboards.routes import bp as dashboards_bp
    from grants.finance.routes import bp as finance_bp
    from grants.main.routes import bp as main_bp
    from grants.monitoring.routes import bp as monitoring_bp
    from grants.notifications.routes import bp as notifications_bp
    from grants.payments.routes import bp as payments_bp
    from grants.public.routes import bp as public_bp
    from grants.public.spending import bp as spending_bp
    from grants.repayments.routes import bp as repayments_bp
    from grants.variations.routes import bp as variations_bp

    app.register_blueprint(main_bp)
    app.register_blueprint(dashboards_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(bids_bp)
    app.register_blueprint(assessment_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(public_bp)
    app.register_blueprint(spending_bp)
    app.register_blueprint(agreements_bp)
    app.register_blueprint(monitoring_bp)
    app.register_blueprint(finance_bp)
    app.register_blueprint(payments_bp)
    app.register_blueprint(repayments_bp)
    app.register_blueprint(variations_bp)
    app.register_blueprint(notifications_bp)
    return app
