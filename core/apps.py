from django.apps import AppConfig


class CoreConfig(AppConfig):
    """The floor under every app: uploads, spreadsheets, e-mail, charts, admin helpers, the staff check."""

    name = "core"
    verbose_name = "Core"
