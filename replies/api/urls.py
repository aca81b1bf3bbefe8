from django.urls import path, re_path

from replies.api import views

# Ids are matched loosely ([^/.]+, as DRF routers do) and looked up by the view, so "abc" is
# a JSON 404 like any other id that names nothing.
urlpatterns = [
    path("replies/", views.PublishedReplyListView.as_view(), name="reply-list"),
    re_path(
        r"^replies/(?P<pk>[^/.]+)/$", views.PublishedReplyDetailView.as_view(), name="reply-detail"
    ),
    re_path(
        r"^replies/(?P<pk>[^/.]+)/pdf$", views.PublishedReplyPDFView.as_view(), name="reply-pdf"
    ),
    re_path(
        r"^me/replies/(?P<pk>[^/.]+)/feedback/$",
        views.FeedbackCreateView.as_view(),
        name="me-reply-feedback",
    ),
]
