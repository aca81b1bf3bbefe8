from django.urls import path

from proposals.api import views

urlpatterns = [
    path("sessions/", views.SessionListView.as_view(), name="session-list"),
    path("units/", views.UnitListView.as_view(), name="unit-list"),
]
