from django.urls import path

from publication import views

app_name = "publication"

urlpatterns = [
    path("", views.reply_list, name="list"),
    path("replies/<int:pk>/", views.reply_detail, name="detail"),
    path("replies/<int:pk>.pdf", views.reply_pdf, name="pdf"),
    path("feed.atom", views.feed, name="feed"),
]
