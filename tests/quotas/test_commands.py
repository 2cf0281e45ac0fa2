"""`allocate_quotas`: the JSON contract, publishing, and refusals with a non-zero exit."""

import io
import json

import pytest
from django.conf import settings
from django.core.management import ManagementUtility, call_command
from django.core.management.base import CommandError
from django.utils.log import configure_logging

from quotas.models import Allocation, Quota, University
from tests import factories


def allocate(*args: str) -> str:
    out = io.StringIO()
    call_command("allocate_quotas", *args, stdout=out)
    return out.getvalue()


def test_json_prints_one_object_in_the_contract(demo_phase):
    document = json.loads(allocate("--phase", "demo", "--json"))

    assert set(document) == {"phase", "pools", "universities"}
    assert document["phase"] == "demo"
    assert document["pools"] == {"public": 18_000, "nahe": 1_200, "alumni": 1_200, "private": 3_600}
    for row in document["universities"]:
        assert set(row) == {"code", "pool", "licenses", "disability_reserved"}
        assert row["pool"] in {"public", "private", "nahe"}
        assert isinstance(row["licenses"], int) and isinstance(row["disability_reserved"], int)
        assert 0 <= row["disability_reserved"] <= row["licenses"]
    for pool in ("public", "nahe", "private"):
        assert sum(r["licenses"] for r in document["universities"] if r["pool"] == pool) == document["pools"][pool]
    codes = [r["code"] for r in document["universities"]]
    assert len(codes) == len(set(codes)) == University.objects.count()
    # Without --publish the run is a draft: nothing counts against it yet.
    assert Allocation.objects.get(phase=demo_phase).status == Allocation.Status.DRAFT
    assert not Quota.objects.filter(phase=demo_phase).exists()


def test_publish_sets_the_seat_counters_registration_counts_against(demo_phase):
    document = json.loads(allocate("--phase", "demo", "--json", "--publish"))

    quotas = {q.university.code if q.university else "alumni": q for q in Quota.objects.filter(phase=demo_phase)}
    assert quotas["alumni"].licenses == document["pools"]["alumni"]
    for row in document["universities"]:
        assert (quotas[row["code"]].licenses, quotas[row["code"]].disability_reserved) == (
            row["licenses"],
            row["disability_reserved"],
        )
    assert Allocation.objects.get(phase=demo_phase).status == Allocation.Status.PUBLISHED

    allocate("--phase", "demo", "--publish")  # a second run is version 2 and replaces version 1
    assert list(Allocation.objects.filter(phase=demo_phase).order_by("version").values_list("status", flat=True)) == [
        "superseded",
        "published",
    ]


def test_without_json_it_prints_a_readable_table(demo_phase):
    out = allocate("--phase", "demo")

    assert "Allocation v1 of demo (draft, not published)" in out
    assert "AIOU" in out and "grant" in out
    publics = University.objects.filter(sector="public").count()
    assert f"public   pool  18,000 licenses,  18,000 allocated to {publics} universities" in out
    assert "Publish it with --publish" in out


def test_impossible_settings_fail_in_words_and_write_nothing(demo_universities):
    factories.make_phase(slug="too-many", public_min_licenses=5_000, public_max_licenses=None)

    with pytest.raises(CommandError, match=r"No allocation was made for too-many: 5,000 × \d+ universities"):
        allocate("--phase", "too-many", "--json", "--publish")

    assert not Allocation.objects.exists()
    assert not Quota.objects.exists()


def test_an_unknown_phase_is_named(demo_phase):
    with pytest.raises(CommandError, match=r"There is no phase called 'nope' \(known phases: demo\)"):
        allocate("--phase", "nope")


def test_a_refused_publish_leaves_no_draft_behind(small):
    phase, universities = small
    allocate("--phase", phase.slug, "--publish")
    quota = Quota.objects.get(phase=phase, university__code="BIG")
    Quota.objects.filter(pk=quota.pk).update(general_seated=29)
    universities["MID"].enrolment = 40_000
    universities["MID"].save(update_fields=["enrolment"])

    with pytest.raises(CommandError, match="BIG would have 20 general and 1 reserved seats"):
        allocate("--phase", phase.slug, "--publish")

    assert Allocation.objects.filter(phase=phase).count() == 1


def test_the_exit_code_is_not_zero_on_impossible_settings(demo_universities, capsys):
    # As from the shell (manage.py parses argv and exits): scripts look at the exit status.
    factories.make_phase(slug="cli", public_min_licenses=5_000, public_max_licenses=None)

    with pytest.raises(SystemExit) as exited:
        ManagementUtility(["manage.py", "allocate_quotas", "--phase", "cli", "--json"]).execute()
    # execute() runs django.setup() again, which points the console log handler at this test's
    # captured stderr; give it back the session's, or later tests' log lines go to a closed file.
    with capsys.disabled():
        configure_logging(settings.LOGGING_CONFIG, settings.LOGGING)

    assert exited.value.code == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "No allocation was made for cli" in captured.err
    assert "is more than the 17,000 licenses of the public pool" in captured.err
