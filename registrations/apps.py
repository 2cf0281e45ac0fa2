from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _roles_after_migrate(sender, using="default", **kwargs) -> None:  # noqa: ARG001 - signal signature
    # Roles are data the code relies on: after every migrate (each app's, since each adds its
    # permissions in its own post_migrate), HEC staff hold the permissions of every model there is,
    # a new admin list included, without anyone remembering a command at deploy.
    # Imported here: apps.py is loaded before the models that roles.py imports are ready.
    from registrations.roles import roles_ensure

    roles_ensure(using=using)


class RegistrationsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "registrations"

    def ready(self) -> None:
        post_migrate.connect(_roles_after_migrate, dispatch_uid="registrations.roles_after_migrate")
