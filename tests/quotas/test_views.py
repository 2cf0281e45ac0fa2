"""HEC staff pages of the allocation: run, preview, publish; nobody else gets in."""

import re

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from quotas.models import Allocation, Quota, University
from quotas.services import allocation_publish, allocation_run
from tests import factories


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def staff_client(client, hec_staff):
    client.force_login(hec_staff)
    return client


def urls(phase, version=1) -> list[str]:
    return [
        reverse("quotas:phase_list"),
        reverse("quotas:allocation_list", args=[phase.slug]),
        reverse("quotas:allocation_preview", args=[phase.slug, version]),
        reverse("fees:staff_allocation_publish", args=[phase.slug, version]),
    ]


# Who may come in ------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_sign_in(client, small):
    phase, _ = small
    allocation_run(phase=phase, actor=None)
    for url in [*urls(phase), reverse("quotas:allocation_run", args=[phase.slug])]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("account_login"))
    assert client.post(reverse("quotas:allocation_run", args=[phase.slug])).status_code == 302
    assert Allocation.objects.count() == 1


def test_a_focal_person_gets_a_friendly_403_and_cannot_run_or_publish(client, small):
    phase, universities = small
    draft = allocation_run(phase=phase, actor=None)
    client.force_login(factories.make_focal_person(university=universities["BIG"]))

    for url in urls(phase):
        response = client.get(url)
        assert response.status_code == 403, url
        assert "This page is for HEC staff" in response.content.decode()
    assert client.post(reverse("quotas:allocation_run", args=[phase.slug])).status_code == 403
    assert (
        client.post(reverse("fees:staff_allocation_publish", args=[phase.slug, 1]), {"confirm": "on"}).status_code
        == 403
    )
    draft.refresh_from_db()
    assert draft.status == Allocation.Status.DRAFT
    assert Allocation.objects.count() == 1


def test_a_staff_user_outside_the_hec_group_is_refused(client, small):
    phase, _ = small
    client.force_login(factories.make_user(staff=True))
    assert client.get(reverse("quotas:allocation_list", args=[phase.slug])).status_code == 403


# Run, preview, publish ------------------------------------------------------------------------


def test_staff_run_preview_and_publish_an_allocation(staff_client, small, hec_staff):
    phase, _ = small
    page = staff_client.get(reverse("quotas:phase_list")).content.decode()
    assert phase.name in page and "none yet" in page

    response = staff_client.post(reverse("quotas:allocation_run", args=[phase.slug]))
    assert response.status_code == 302
    assert response["Location"] == reverse("quotas:allocation_preview", args=[phase.slug, 1])
    assert messages_of(response) == ["Version 1 was computed. Check it below, then publish it."]

    preview = staff_client.get(response["Location"]).content.decode()
    assert "allocation version 1" in preview
    assert "University BIG (BIG)" in preview and "fixed distance-learning grant" in preview
    assert "13.3333" in preview  # PRI's exact share
    assert "2 % of each public university&#x27;s licenses, rounded up to the next whole license" in preview
    assert 'aria-describedby="reserve-rule"' in preview
    assert "Publish this version" in preview

    confirm = staff_client.get(reverse("fees:staff_allocation_publish", args=[phase.slug, 1]))
    assert confirm.status_code == 200
    assert "I have checked this version" in confirm.content.decode()
    assert not Quota.objects.exists()

    unconfirmed = staff_client.post(reverse("fees:staff_allocation_publish", args=[phase.slug, 1]), {})
    assert unconfirmed.status_code == 400
    assert "Tick the box to confirm" in unconfirmed.content.decode()
    assert not Quota.objects.exists()

    published = staff_client.post(reverse("fees:staff_allocation_publish", args=[phase.slug, 1]), {"confirm": "on"})
    assert published.status_code == 302
    assert messages_of(published) == ["Version 1 is published: registration now counts against it."]
    assert Allocation.objects.get().status == Allocation.Status.PUBLISHED
    assert Allocation.objects.get().published_by == hec_staff
    assert Quota.objects.filter(phase=phase).count() == 7
    listing = staff_client.get(published["Location"]).content.decode()
    assert "Published" in listing and hec_staff.email in listing


def test_a_draft_shows_each_universitys_change_and_the_pools_beside_the_published_version(staff_client, small):
    phase, universities = small
    allocation_publish(allocation=allocation_run(phase=phase, actor=None), actor=None)
    first = staff_client.get(reverse("quotas:allocation_preview", args=[phase.slug, 1])).content.decode()
    assert "Compared with the published version" not in first  # the published one has nothing to compare
    # MID grows: the next run gives it more of the public pool and BIG less.
    University.objects.filter(code="MID").update(enrolment=60_000)
    allocation_run(phase=phase, actor=None)
    for url in (
        reverse("quotas:allocation_preview", args=[phase.slug, 2]),
        reverse("fees:staff_allocation_publish", args=[phase.slug, 2]),
    ):
        page = staff_client.get(url).content.decode()
        assert "Compared with the published version 1" in page
        rows = {
            name: (old, new, change)
            for name, old, new, change in re.findall(
                r'<tr><th scope="row">([^<]+)</th><td class="num">([\d,]+)</td><td class="num">([\d,]+)</td>'
                r'<td class="num">([^<]+)</td></tr>',
                page,
            )
        }
        old_mid, new_mid, change_mid = rows["University MID (MID)"]
        assert int(new_mid) > int(old_mid) and change_mid == f"+{int(new_mid) - int(old_mid)}"
        old_big, new_big, change_big = rows["University BIG (BIG)"]
        assert int(new_big) < int(old_big) and change_big == f"−{int(old_big) - int(new_big)}"
        assert rows["University PRI (PRI)"][2] == "0"
        public = [value for name, value in rows.items() if name.startswith("Public")]
        assert public and public[0][0] == public[0][1]  # the pool's total stays: its shares move
        names = [name for name in rows if name.startswith("University ")]
        assert names == sorted(names)


def test_impossible_settings_are_explained_and_nothing_is_made(staff_client, small):
    phase, _ = small
    phase.public_min_licenses = 30
    phase.save(update_fields=["public_min_licenses"])

    response = staff_client.post(reverse("quotas:allocation_run", args=[phase.slug]), follow=True)

    page = response.content.decode()
    assert "No allocation was made: 30 × 2 universities = 60 is more than the 50 licenses of the public pool" in page
    assert not Allocation.objects.exists()


def test_a_publish_below_the_seats_taken_shows_the_numbers_and_changes_nothing(staff_client, small):
    phase, universities = small
    allocation_publish(allocation=allocation_run(phase=phase, actor=None), actor=None)
    Quota.objects.filter(phase=phase, university__code="BIG").update(general_seated=29)
    universities["MID"].enrolment = 40_000
    universities["MID"].save(update_fields=["enrolment"])
    allocation_run(phase=phase, actor=None)

    response = staff_client.post(
        reverse("fees:staff_allocation_publish", args=[phase.slug, 2]), {"confirm": "on"}, follow=True
    )

    page = response.content.decode()
    assert "BIG would have 20 general and 1 reserved seats, but 29 general and 0 reserved seats are already taken" in (
        page
    )
    assert Allocation.objects.get(version=1).status == Allocation.Status.PUBLISHED
    assert Allocation.objects.get(version=2).status == Allocation.Status.DRAFT
    assert Quota.objects.get(phase=phase, university__code="BIG").licenses == 30


def test_a_published_version_cannot_be_published_again(staff_client, small):
    phase, _ = small
    allocation_publish(allocation=allocation_run(phase=phase, actor=None), actor=None)

    preview = staff_client.get(reverse("quotas:allocation_preview", args=[phase.slug, 1])).content.decode()
    assert "Publish this version" not in preview
    response = staff_client.post(reverse("fees:staff_allocation_publish", args=[phase.slug, 1]), {"confirm": "on"})
    assert response.status_code == 302
    assert messages_of(response) == [
        "Version 1 is published; only a draft can be published. Run a new allocation instead."
    ]


def test_unknown_phases_and_versions_are_404_and_a_get_does_not_run(staff_client, small):
    phase, _ = small
    assert staff_client.get(reverse("quotas:allocation_list", args=["nope"])).status_code == 404
    assert staff_client.get(reverse("quotas:allocation_preview", args=[phase.slug, 9])).status_code == 404
    assert staff_client.post(reverse("fees:staff_allocation_publish", args=[phase.slug, 9])).status_code == 404
    response = staff_client.get(reverse("quotas:allocation_run", args=[phase.slug]))
    assert response.status_code == 302
    assert not Allocation.objects.exists()


def test_the_navigation_links_hec_staff_to_the_allocations_and_utilisation(staff_client, client, small):
    phase, universities = small
    page = staff_client.get("/no-such-page/").content.decode()  # any page with the site's navigation
    assert f'href="{reverse("quotas:phase_list")}"' in page
    assert f'href="{reverse("registrations:staff_utilisation", args=[phase.slug])}"' in page

    client.force_login(factories.make_focal_person(university=universities["BIG"]))
    assert f'href="{reverse("quotas:phase_list")}"' not in client.get("/no-such-page/").content.decode()


# Admin -------------------------------------------------------------------------------------------


def test_the_admin_links_an_allocation_to_its_preview_and_edits_nothing(client, small):
    phase, _ = small
    allocation = allocation_publish(allocation=allocation_run(phase=phase, actor=None), actor=None)
    client.force_login(factories.make_hec_staff())

    page = client.get(reverse("admin:quotas_allocation_change", args=[allocation.pk]))

    assert page.status_code == 200
    body = page.content.decode()
    assert reverse("quotas:allocation_preview", args=[phase.slug, 1]) in body
    assert 'name="_save"' not in body
    refused = client.post(reverse("admin:quotas_allocation_change", args=[allocation.pk]), {"version": 7})
    assert refused.status_code == 403
    allocation.refresh_from_db()
    assert allocation.version == 1


# Queries ---------------------------------------------------------------------------------------------


def _queries_for_preview(client, universities: int) -> int:
    for n in range(universities):
        factories.make_university(code=f"Q{universities}-{n}", enrolment=1_000 + n)
    everyone = University.objects.count()
    phase = factories.make_phase(
        total_licenses=everyone * 10,
        public_pool_licenses=everyone * 10,
        nahe_pool_licenses=0,
        alumni_pool_licenses=0,
        private_pool_licenses=0,
        distance_learning_licenses=0,
        public_min_licenses=0,
        public_max_licenses=None,
    )
    allocation = allocation_run(phase=phase, actor=None)
    assert allocation.lines.count() == everyone
    url = reverse("quotas:allocation_preview", args=[phase.slug, allocation.version])
    client.get(url)  # warm up the session
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_preview_takes_as_many_queries_for_100_universities_as_for_10(staff_client, db):
    assert _queries_for_preview(staff_client, 10) == _queries_for_preview(staff_client, 90)
