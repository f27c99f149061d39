from django.urls import path

from . import profile_views, views

app_name = "specialists"
urlpatterns = [
    path("", views.home, name="home"),
    path("match/<uuid:ref>/", views.case_match, name="case_match"),
    path("match/<uuid:ref>/offer/", views.case_offer, name="case_offer"),
    path("match/<uuid:ref>/specialty/", views.case_specialty, name="case_specialty"),
    path("match/<uuid:ref>/hold/", views.case_hold, name="case_hold"),
    path("match/<uuid:ref>/hold/end/", views.case_hold_end, name="case_hold_end"),
    path("match/<uuid:ref>/tell/", views.case_tell_patient, name="case_tell_patient"),
    path("offers/<uuid:ref>/", views.offer_detail, name="offer"),
    path("offers/<uuid:ref>/accept/", views.offer_accept, name="offer_accept"),
    path("offers/<uuid:ref>/decline/", views.offer_decline, name="offer_decline"),
    # The signed-in specialist's own profile (profile_views): no URL names a profile.
    path("profile/", profile_views.profile, name="profile"),
    path("profile/edit/", profile_views.profile_edit, name="profile_edit"),
    path("profile/conditions/", profile_views.profile_conditions, name="profile_conditions"),
    path(
        "profile/conditions/remove/",
        profile_views.profile_condition_remove,
        name="profile_condition_remove",
    ),
    path(
        "profile/certifications/",
        profile_views.profile_certifications,
        name="profile_certifications",
    ),
    path(
        "profile/certifications/remove/",
        profile_views.profile_certification_remove,
        name="profile_certification_remove",
    ),
    path("profile/licences/", profile_views.profile_licences, name="profile_licences"),
    path(
        "profile/licences/remove/",
        profile_views.profile_licence_remove,
        name="profile_licence_remove",
    ),
    path(
        "profile/licences/<str:state>/",
        profile_views.profile_licence_edit,
        name="profile_licence_edit",
    ),
    path("profile/leave/", profile_views.profile_leave, name="profile_leave"),
    path("profile/leave/remove/", profile_views.profile_leave_remove, name="profile_leave_remove"),
    path("profile/photo/", profile_views.profile_photo, name="profile_photo"),
    path("profile/photo/remove/", profile_views.profile_photo_remove, name="profile_photo_remove"),
]
