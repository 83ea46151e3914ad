"""Who is using this browser tab: a local login (token kept in the tab's session state) or a Hugging Face
sign-in (``gr.OAuthProfile``, injected by Gradio on a Space with ``hf_oauth: true``).

Events hand ``caller(service, token, profile)`` to the service, which checks every change; the UI never decides
who may do what.
"""

from __future__ import annotations

import gradio as gr

from recsys.accounts.principal import Principal
from recsys.service.catalog import CatalogService
from recsys.service.errors import NotAllowed
from recsys.ui.i18n import t
from recsys.ui.render import esc


def caller(service: CatalogService, token: str | None, profile: gr.OAuthProfile | None = None) -> Principal:
    return service.identity.principal(token=token, hf_user=profile.username if profile is not None else None)


def status_line(principal: Principal) -> str:
    if not principal.signed_in:
        # A marker string: the page shows it in the reader's language (recsys/ui/i18n.py).
        return str(t("Browsing as a guest: sign in as a merchant to add items, or as an admin to train models."))
    return f"Signed in as **{esc(principal.name)}** ({principal.role})."


def sign_in(service: CatalogService, name: str, password: str) -> tuple[str, str]:
    """(token, status): a new login token, or an empty one and why not (never which part was wrong)."""
    try:
        token = service.identity.sign_in(name or "", password or "")
    except NotAllowed as exc:
        return "", esc(exc)
    return token, status_line(service.identity.principal(token=token))


def sign_out(service: CatalogService, token: str | None) -> tuple[str, str]:
    service.identity.sign_out(token)
    return "", status_line(service.identity.principal())


def build(demo: gr.Blocks, service: CatalogService, token: gr.State) -> None:
    """The sign-in row: Hugging Face's button on a Space with OAuth, else the local account form."""
    with gr.Row():
        status = gr.Markdown(status_line(service.identity.principal()), elem_id="account-status")
        if service.settings.hf_oauth:
            gr.LoginButton()  # events read the profile Gradio injects (merchant = the HF user name)

            def on_load(profile: gr.OAuthProfile | None) -> str:
                return status_line(caller(service, "", profile))

            demo.load(on_load, None, status, api_visibility="private")
        # The local form also on a Space: the first admin (RECSYS_ADMIN_USER) signs in with it.
        name = gr.Textbox(label=t("User"), scale=1, min_width=120, elem_id="account-name")
        password = gr.Textbox(label=t("Password"), type="password", scale=1, min_width=120, elem_id="account-password")
        login = gr.Button(t("Sign in"), scale=0, size="sm", min_width=90, elem_id="account-sign-in")
        logout = gr.Button(t("Sign out"), scale=0, size="sm", min_width=90, elem_id="account-sign-out")

    def on_sign_in(user: str, secret: str) -> tuple[str, str, str]:
        new_token, line = sign_in(service, user, secret)
        return new_token, line, ""  # the password box is cleared either way

    login.click(on_sign_in, [name, password], [token, status, password], api_visibility="private")
    password.submit(on_sign_in, [name, password], [token, status, password], api_visibility="private")
    logout.click(lambda t: sign_out(service, t), token, [token, status], api_visibility="private")
