"""The proposer pages, included at /my/ by ``tracker.urls``."""

from django.urls import path

from tracker.my import invite, signin, views

app_name = "my"
urlpatterns = [
    path("", views.index, name="index"),
    path("login/", signin.sign_in, name="login"),
    path("logout/", signin.sign_out, name="logout"),
    path("password/", signin.password_change, name="password_change"),
    path("login/link/", signin.login_link_request, name="login_link"),
    path("login/link/sent/", signin.login_link_sent, name="login_link_sent"),
    path(
        "login/link/<str:uidb64>/<str:token>/",
        signin.login_link_confirm,
        name="login_link_confirm",
    ),
    path("invitation/<str:uidb64>/<str:token>/", invite.invitation, name="invitation"),
    path("notifications/", invite.preferences, name="preferences"),
    path("proposals/new/", views.proposal_new, name="proposal_new"),
    path("proposals/<int:pk>/", views.proposal_detail, name="proposal"),
    path("proposals/<int:pk>/edit/", views.proposal_edit, name="proposal_edit"),
    path("proposals/<int:pk>/submit/", views.proposal_submit, name="proposal_submit"),
    path("proposals/<int:pk>/confirm/", views.coproposal_confirm, name="coproposal_confirm"),
    path("proposals/<int:pk>/decline/", views.coproposal_decline, name="coproposal_decline"),
    path("replies/<int:pk>/", views.reply_detail, name="reply"),
    path("replies/<int:pk>/pdf/", views.reply_pdf, name="reply_pdf"),
    path("replies/<int:pk>/feedback/", views.reply_feedback, name="feedback"),
]
