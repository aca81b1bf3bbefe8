"""The committee's tools, mounted by ``tracker.urls`` at ``/admin/tools/`` in front of the admin
site; every view goes through the site's ``admin_view`` (signed-in staff, no caching)."""

from django.contrib import admin
from django.urls import path

from tracker import admin_views as views
from tracker.reports.views import annual_report_view

app_name = "tracker_admin"
wrap = admin.site.admin_view

urlpatterns = [
    path("statistics/", wrap(views.statistics_view), name="statistics"),
    path("statistics/annual-report/", wrap(annual_report_view), name="annual_report"),
    path("import/", wrap(views.import_view), name="import"),
    path("import/template/", wrap(views.import_template_view), name="import_template"),
    path("import/<str:job_id>/", wrap(views.import_job_view), name="import_job"),
    path("pdfs/", wrap(views.render_pdfs_view), name="render_pdfs"),
    path("jobs/<str:job_id>/", wrap(views.job_view), name="job"),
    path("jobs/<str:job_id>/status/", wrap(views.job_status_view), name="job_status"),
    path("jobs/<str:job_id>/download/", wrap(views.job_download_view), name="job_download"),
    path("export/<str:app_label>/<str:model_name>/", wrap(views.export_view), name="export"),
]
