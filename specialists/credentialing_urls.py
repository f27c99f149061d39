from django.urls import path

from . import credentialing_views

app_name = "credentialing"
urlpatterns = [
    path("", credentialing_views.home, name="home"),
    path("verify/", credentialing_views.verify, name="verify"),
    path("refuse/", credentialing_views.refuse, name="refuse"),
]
