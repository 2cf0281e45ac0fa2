from django.apps import AppConfig


class PortalConfig(AppConfig):
    """The pages and commands above every app: home, HEC staff's dashboard, cross-app commands."""

    name = "portal"
    verbose_name = "Portal"
