"""Staff pages for contacts, mounted under /medewerkers/contacten/ (config/urls.py)."""

from django.urls import path

from . import views

app_name = "contacts"

urlpatterns = [
    path("", views.register, name="register"),
    path("corrigeren/", views.correct, name="correct"),
    path("werkinstructie/", views.script_answer, name="script-answer"),
    path("importeren/", views.csv_import, name="import"),
]
