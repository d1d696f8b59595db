from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "kestrel.customers"
    label = "customers"
    verbose_name = _("Customer archive")

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from kestrel.customers.models import Contact, Customer, CustomerCharacteristics

        # PLT-5: every business record keeps who changed what, when, old → new.
        auditlog.register(Customer, m2m_fields={"co_owners", "tags"})
        auditlog.register(CustomerCharacteristics)
        auditlog.register(Contact)

        # ARC-4: domain-event subscribers (kestrel.core.events) and the nightly regrade job.
        from kestrel.customers import grading

        grading.subscribers_register()
