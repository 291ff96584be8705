from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BookingConfig(AppConfig):
    name = "booking"
    verbose_name = _("Afspraken")

    def ready(self) -> None:
        from .converters import converters_register

        converters_register()
