from django.urls import path

from .integration import DecisionApi, ExposureCreateApi, OutcomeCreateApi
from .results import ExperimentResultsApi

urlpatterns = [
    path("nudges/decision/", DecisionApi.as_view(), name="api-nudges-decision"),
    path("nudges/exposures/", ExposureCreateApi.as_view(), name="api-nudges-exposures"),
    path("nudges/outcomes/", OutcomeCreateApi.as_view(), name="api-nudges-outcomes"),
    path("experiments/<int:experiment_id>/results/", ExperimentResultsApi.as_view(), name="api-experiment-results"),
]
