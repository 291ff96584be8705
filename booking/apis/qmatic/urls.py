"""Mounted at ``/qmatic/calendar-backend/public/api/`` (config/urls.py). Matrix parameters are
part of the path segment, so they are captured as ``matrix`` and parsed in the view."""

from django.urls import re_path

from . import views
from .base import unknown_path

ID = r"[^/;]+"
MATRIX = r"(?P<matrix>[^/]*)"

urlpatterns = [
    re_path(r"^v1/services$", views.ServiceListApi.as_view(), name="qmatic-services"),
    re_path(rf"^v1/services/groups{MATRIX}$", views.ServiceGroupListApi.as_view(), name="qmatic-service-groups"),
    re_path(
        rf"^v1/services/(?P<servicePublicId>{ID})/branches$",
        views.ServiceBranchListApi.as_view(),
        name="qmatic-service-branches",
    ),
    re_path(r"^v1/branches$", views.BranchListApi.as_view(), name="qmatic-branches"),
    re_path(rf"^v1/branches/(?P<branchPublicId>{ID})$", views.BranchDetailApi.as_view(), name="qmatic-branch"),
    re_path(
        rf"^v1/branches/(?P<branchPublicId>{ID})/services$",
        views.BranchServiceListApi.as_view(),
        name="qmatic-branch-services",
    ),
    re_path(
        rf"^v2/branches/(?P<branchPublicId>{ID})/services/groups{MATRIX}$",
        views.BranchServiceGroupsApi.as_view(),
        name="qmatic-branch-service-groups",
    ),
    re_path(rf"^v2/branches/(?P<branchPublicId>{ID})/dates{MATRIX}$", views.DatesApi.as_view(), name="qmatic-dates"),
    re_path(
        rf"^v2/branches/(?P<branchPublicId>{ID})/dates/(?P<date>{ID})/times{MATRIX}$",
        views.TimesApi.as_view(),
        name="qmatic-times",
    ),
    re_path(
        rf"^v2/branches/(?P<branchPublicId>{ID})/dates/(?P<date>{ID})/times/(?P<time>{ID})/book{MATRIX}$",
        views.BookApi.as_view(),
        name="qmatic-book",
    ),
    re_path(rf"^v1/appointments/(?P<publicId>{ID})$", views.AppointmentApi.as_view(), name="qmatic-appointment"),
    re_path(r"^.*$", unknown_path),
]
