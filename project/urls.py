from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    # Sign-in and sign-out; the page is templates/registration/login.html. Pro is the
    # remover.full_resolution permission, granted in the admin.
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    # The developer API and its pages first: remover.urls answers any other /api/ path itself.
    path("", include("remover.devapi.urls")),
    path("", include("remover.urls")),
]

# Django's own refusals (too many files or fields, a foreign Host) and crashes answer the
# APIs in their JSON shapes; pages keep Django's plain pages (never a traceback).
handler400 = "remover.web.page_api.bad_request"
handler500 = "remover.web.page_api.server_error"
