from django.urls import path

from signing.views import verify_view

urlpatterns = [path("", verify_view, name="verify-letter")]
