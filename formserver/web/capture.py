"""``POST /forms/<offer>``: validate, store, and answer with a page (no JS) or JSON (fetch)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response as BaseResponse

from formserver.content.offers import Offer
from formserver.core import catalog, db
from formserver.core.guards import (
    check_origin,
    client_ip,
    form_rate_limit,
    limiter,
    stamp_rate_limit,
)
from formserver.core.jsonbody import read_json
from formserver.core.requests import origin_allowed, wants_json
from formserver.core.tokens import make_token
from formserver.domain import leads
from formserver.web import timetrap

if TYPE_CHECKING:  # the form classes (WTForms, email-validator) load with the first post
    from formserver.web import lead_form as forms

logger = logging.getLogger(__name__)
bp = Blueprint("capture", __name__)


def public_url(path: str) -> str:
    return current_app.config["PUBLIC_URL"].rstrip("/") + path


def offer_or_404(offer_id: str) -> Offer:
    offer = catalog.offer(offer_id)
    if offer is None:
        abort(404, description="There is no such offer.")
    return offer


def posted_data() -> MultiDict:
    """The submission as a MultiDict, from a form body or a JSON object of strings."""
    if not request.is_json:
        return request.form
    body = read_json(request)
    if not isinstance(body, dict):
        abort(400, description="The request body must be a JSON object.")
    bad = sorted(k for k, v in body.items() if v is not None and not isinstance(v, str | bool))
    if bad:
        abort(422, description=f"Values must be strings: {', '.join(map(str, bad))[:200]}.")
    return MultiDict(
        {
            k: ("yes" if v is True else "") if isinstance(v, bool) else (v or "")
            for k, v in body.items()
        }
    )


def download_token(lead_id: int, offer: Offer) -> str:
    return make_token("download", {"l": lead_id, "o": offer.id, "a": offer.asset_filename})


def _success(
    offer: Offer, lead_id: int | None, confirmed: bool
) -> tuple[Response, int] | BaseResponse:
    """303 to the right thank-you page, or 201 JSON; a bot (lead_id None) is told to confirm."""
    if offer.double_optin and not confirmed or lead_id is None:
        if wants_json():
            # "ok" promises a download link; a bot has none, so it gets the confirm answer, as
            # its HTML twin gets the check-your-inbox page.
            return jsonify(status="confirm", message=offer.thank_you), 201
        return redirect(url_for("capture.check_inbox", offer_id=offer.id), code=303)
    token = download_token(lead_id, offer)
    thanks = public_url(url_for("capture.thanks", token=token))
    if wants_json():
        download = public_url(url_for("delivery.download", token=token))
        body = {"status": "ok", "message": offer.thank_you, "download_url": download}
        return jsonify(body | {"thank_you_url": thanks}), 201
    return redirect(thanks, code=303)


def _invalid(offer: Offer, form: forms.LeadFormBase, data: MultiDict) -> tuple[Response, int]:
    from formserver.web import lead_form as forms

    errors = {name: list(errs) for name, errs in form.errors.items() if name != "website"}
    message = "Please correct the highlighted fields."
    if wants_json():
        return jsonify(errors=errors, message=message), 422
    # The visitor's own stamp goes back (it passed the trap): a fresh one would make a quick
    # fix, such as ticking the forgotten consent box, look like a bot.
    stamp = (form.stamp.data or "")[:200]
    page = render_template(
        "form_page.html",
        offer=offer,
        values=forms.form_values(data, offer) | {timetrap.STAMP_FIELD: stamp},
        errors=errors,
        form_error=message,
        action=url_for("capture.submit", offer_id=offer.id),
    )
    return Response(page), 422


@bp.post("/forms/<offer_id>")
@limiter.limit(form_rate_limit)
def submit(offer_id: str) -> tuple[Response, int] | BaseResponse:
    offer = offer_or_404(offer_id)
    check_origin(request)
    data = posted_data()
    limit = current_app.config["MAX_FIELD_LENGTH"]
    if any(len(value) > limit for value in data.values()):
        abort(422, description=f"A value is longer than {limit} characters.")
    from formserver.web import lead_form as forms

    form = forms.bind(offer, data, current_app.config["EMAIL_CHECK_DELIVERABILITY"])
    if form.is_bot:
        logger.info("honeypot filled on offer %s: fake success", offer.id)
        return _success(offer, None, confirmed=False)
    trapped = timetrap.bot_reason(offer.id, form.stamp.data or "", datetime.now(UTC))
    if trapped:
        # Treated like the honeypot: a bot told it failed would just change its timing.
        logger.info("form stamp %s on offer %s: fake success", trapped, offer.id)
        return _success(offer, None, confirmed=False)
    if not form.validate():
        return _invalid(offer, form, data)
    meta = leads.SubmissionMeta(
        utm=forms.attribution(form),
        referrer=request.headers.get("Referer", "")[:2000],
        time_zone=form.time_zone,
        user_agent=request.headers.get("User-Agent", "")[:500],
        ip=client_ip(request),
    )
    values = forms.field_values(form, offer)
    captured = leads.store(db.session(), offer, values, meta, datetime.now(UTC))
    from formserver.mail.handoff import after_commit

    after_commit(captured.send_ids, captured.webhook_ids, f"a submission to {offer.id}")
    return _success(offer, captured.lead_id, confirmed=captured.confirmed)


@bp.get("/thanks/<token>")
def thanks(token: str) -> str:
    from formserver.web.delivery import read_download_token

    lead, offer, token = read_download_token(token)
    download_url = public_url(url_for("delivery.download", token=token))
    return render_template("thanks.html", offer=offer, download_url=download_url)


@bp.get("/forms/<offer_id>/stamp")
@limiter.limit(stamp_rate_limit)
def stamp(offer_id: str) -> Response:
    """The signed render time that the landing page's script puts in the form's hidden field."""
    offer = offer_or_404(offer_id)
    response = jsonify(stamp=timetrap.make_stamp(offer.id, datetime.now(UTC)))
    response.headers["Cache-Control"] = "no-store"  # a cached stamp would age for everyone
    return response


@bp.get("/forms/<offer_id>/check-your-inbox")
def check_inbox(offer_id: str) -> str:
    return render_template("check_inbox.html", offer=offer_or_404(offer_id))


@bp.after_request
def allow_our_site(response: Response) -> Response:
    """CORS for our own site's script: the JSON answer is readable only from allowed origins."""
    origin = request.headers.get("Origin", "")
    if origin and origin_allowed(origin, current_app.config):
        response.headers["Access-Control-Allow-Origin"] = origin
        response.vary.add("Origin")
    return response


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
