from django.urls import path

from .apis import ContactBatchCreateApi, ContactCreateApi

urlpatterns = [
    path("contacts/", ContactCreateApi.as_view(), name="api-contacts"),
    path("contacts/batch/", ContactBatchCreateApi.as_view(), name="api-contacts-batch"),
]
