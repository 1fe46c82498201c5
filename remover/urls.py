from django.urls import path

from . import views

# Pages (templates/, static/) first, then the JSON API the pages' JavaScript uses.
urlpatterns = [
    path("", views.home, name="home"),
]
