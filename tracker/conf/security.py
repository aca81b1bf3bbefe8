"""The password rules and the Content-Security-Policy (settings: ``AUTH_PASSWORD_VALIDATORS``,
``CONTENT_SECURITY_POLICY``)."""

from __future__ import annotations

from typing import Any

from csp.constants import NONCE, NONE, SELF


def password_validators() -> list[dict[str, Any]]:
    """``AUTH_PASSWORD_VALIDATORS``: Django's rules, and ours for length, character classes and
    the passwords the project publishes."""
    return [
        {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
        # Whitespace does not count; the message is ours, in Chinese.
        {"NAME": "proposals.passwords.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
        {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
        # A common password with capitals, digits, symbols or look-alikes is still common.
        {"NAME": "proposals.passwords.DisguisedCommonPasswordValidator"},
        {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
        # 等保2.0 三级: length and several character classes.
        {"NAME": "proposals.passwords.CharacterClassValidator", "OPTIONS": {"min_classes": 3}},
        # Without DEBUG, not one of the demo's published passwords (load_demo sets them regardless).
        {"NAME": "proposals.passwords.PublishedPasswordValidator"},
    ]


def content_security_policy() -> dict[str, Any]:
    """``CONTENT_SECURITY_POLICY`` (django-csp).

    Only the app's own scripts, styles and images; an inline <script> or <style> runs only with
    the request's nonce (``{{ request.csp_nonce }}``); no plugins, no framing (the letter
    editor's PDF frame is allowed on the same origin by ``csp_replace`` on those two views),
    forms post to this origin only. A response that already carries a policy keeps it
    (tracker/files.py sends ``sandbox``). tracker/tests/test_csp.py loads the pages in Chromium
    and counts violations.
    """
    return {
        "DIRECTIVES": {
            "default-src": [SELF],
            "script-src": [SELF, NONCE],
            "style-src": [SELF, NONCE],
            "img-src": [SELF, "data:"],
            "object-src": [NONE],
            "base-uri": [SELF],
            "frame-ancestors": [NONE],
            "form-action": [SELF],
        },
    }
