from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import RedirectView

from proposals.security import AdminSignInForm, counted_admin_password_change
from publication import views as publication_views
from tracker.files import download_attachment
from tracker.health import healthz, healthz_web
from tracker.metrics import metrics_view

admin.site.site_header = "区政协提案办理系统"
admin.site.site_title = "提案办理"
admin.site.index_title = "工作台"
# A wrong old password counts toward the lockout, as on /my/ (proposals.security).
admin.site.password_change = counted_admin_password_change(admin.site)
# Says why a demo password is refused without DEBUG (proposals.security).
admin.site.login_form = AdminSignInForm

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    # The committee's tools (statistics, Excel, PDF bundles), in front of the admin site.
    path("admin/tools/", include("tracker.admin_urls")),
    path("admin/", admin.site.urls),
    path("api/", include("tracker.api.urls")),
    path("my/", include("tracker.my.urls")),
    path("public/", include("publication.urls")),
    path("sitemap.xml", publication_views.sitemap, name="sitemap"),
    path("verify/", include("signing.urls")),
    path("files/attachments/<int:pk>/", download_attachment, name="attachment-download"),
    # Operations (README "Operations"): health for load balancers and monitoring, public;
    # Prometheus metrics, for the private networks or the token only (404 to anyone else).
    re_path(r"^healthz/?$", healthz, name="healthz"),
    re_path(r"^healthz/web/?$", healthz_web, name="healthz-web"),
    path("metrics", metrics_view, name="metrics"),
]
# MEDIA_ROOT is deliberately not served, not even with DEBUG: every stored file (signed
# letters, attachments) goes through a view that asks visible_to.
