"""The REST framework and its OpenAPI schema (settings: ``REST_FRAMEWORK``,
``SPECTACULAR_SETTINGS``)."""

from __future__ import annotations

from typing import Any

import environ


def rest_framework(env: environ.Env) -> dict[str, Any]:
    """``REST_FRAMEWORK``, its throttle rates from ``API_THROTTLE_ANON``, ``API_THROTTLE_USER``
    and ``API_THROTTLE_INTEGRATION``.

    The API (tracker/api/urls.py): public views take no credentials and set their own; members
    sign in with a session or a token; integration takes a token only. Errors are
    {code, message, fields} (proposals.api.common.exception_handler). The throttles key
    anonymous clients by their address (``TRUSTED_PROXIES``; DRF's NUM_PROXIES is not used).
    """
    return {
        "DEFAULT_AUTHENTICATION_CLASSES": [
            # Token first: an unauthenticated request gets 401 with WWW-Authenticate: Token.
            "rest_framework.authentication.TokenAuthentication",
            "rest_framework.authentication.SessionAuthentication",
        ],
        "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
        "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
        "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
        "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
        "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
        "DEFAULT_THROTTLE_CLASSES": [
            "proposals.api.throttles.AnonThrottle",
            "proposals.api.throttles.UserThrottle",
        ],
        "DEFAULT_THROTTLE_RATES": {
            "anon": env.str("API_THROTTLE_ANON", default="120/min"),
            "user": env.str("API_THROTTLE_USER", default="600/min"),
            "integration": env.str("API_THROTTLE_INTEGRATION", default="120/min"),
        },
        "EXCEPTION_HANDLER": "proposals.api.common.exception_handler",
        "TEST_REQUEST_DEFAULT_FORMAT": "json",
        "URL_FORMAT_OVERRIDE": None,
    }


def spectacular() -> dict[str, Any]:
    """``SPECTACULAR_SETTINGS``: the schema's title, description, enums and tags (/api/docs/)."""
    return {
        "TITLE": "区政协提案办理系统 API",
        "DESCRIPTION": (
            "政务公开：已公开的提案答复、届次、承办单位与办理统计（无需登录，按来源地址限流）；"
            "委员（登录会话或令牌）：本人提案的办理进程、网上提交、对答复的反馈；"
            "对接（提案委员会“接口对接”账号的令牌）：批量导入已立案提案、读取全部数据。"
            "错误一律为 JSON：{code, message, fields}；无权查看的对象与不存在的对象同为 404；"
            "时间为 ISO 8601，带 +08:00。"
        ),
        "VERSION": "1.0.0",
        "SCHEMA_PATH_PREFIX": r"/api/v1",
        "SERVE_INCLUDE_SCHEMA": False,
        "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
        "SERVE_AUTHENTICATION": [],
        "COMPONENT_SPLIT_REQUEST": True,
        "ENUM_NAME_OVERRIDES": {
            "ProposalStatusEnum": "proposals.models.ProposalStatus",
            "AssignmentStateEnum": "proposals.models.AssignmentState",
            "ProposerKindEnum": "proposals.models.Proposer.Kind",
            "ReplyStateEnum": "replies.models.ReplyState",
            "ReplyKindEnum": "replies.models.Reply.Kind",
            "FeedbackRatingEnum": "replies.models.Feedback.Rating",
            "StatisticsLevelEnum": "tracker.statistics.measures.LEVEL_CHOICES",
        },
        "TAGS": [
            {"name": "公开", "description": "政务公开，无需登录"},
            {"name": "委员", "description": "委员本人的提案与反馈（登录会话或令牌）"},
            {"name": "对接", "description": "提案委员会的系统对接（令牌，需“接口对接”权限）"},
        ],
        # Swagger UI and its assets come from drf-spectacular-sidecar: /api/docs/ works offline.
        "SWAGGER_UI_DIST": "SIDECAR",
        "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
        "REDOC_DIST": "SIDECAR",
    }
