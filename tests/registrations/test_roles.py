from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.urls import reverse

from registrations.roles import FOCAL_PERSON, HEC_STAFF, LEARNER


def test_after_migrate_the_roles_exist_and_hec_staff_may_read_but_not_change_the_audit_trail(db):
    assert set(Group.objects.values_list("name", flat=True)) >= {HEC_STAFF, FOCAL_PERSON, LEARNER}
    held = set(Group.objects.get(name=HEC_STAFF).permissions.values_list("content_type__app_label", "codename"))
    assert {("fees", "change_disabilityseat"), ("quotas", "view_phase"), ("audit", "view_auditentry")} <= held
    assert ("audit", "change_auditentry") not in held and ("audit", "delete_auditentry") not in held


def test_a_staff_member_added_to_the_group_in_the_admin_opens_every_programme_list(client, db):
    user = get_user_model().objects.create_user(username="sana", email="sana@hec.gov.pk", password="x" * 12)
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    user.groups.add(Group.objects.get(name=HEC_STAFF))
    client.force_login(user)

    assert client.get(reverse("admin:fees_disabilityseat_changelist")).status_code == 200
    assert client.get(reverse("admin:registrations_nomination_changelist")).status_code == 200
