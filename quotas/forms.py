"""Forms of the HEC staff pages for allocations and license moves: shape only; rules live in services."""

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .models import Phase, University
from .selectors import universities_with_quota


class AllocationPublishForm(forms.Form):
    confirm = forms.BooleanField(
        label=gettext_lazy("I have checked this version and want registration to count against it"),
        help_text=gettext_lazy(
            "Every university's quota is set from this version (plus the licenses moved so far). "
            "The version published now becomes superseded."
        ),
        error_messages={"required": gettext_lazy("Tick the box to confirm that this version should be published.")},
    )


class UniversityChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: University) -> str:
        return f"{obj.code} — {obj.name}"


class LicenseMoveForm(forms.Form):
    from_university = UniversityChoiceField(
        queryset=University.objects.none(),
        label=gettext_lazy("Move from"),
        help_text=gettext_lazy("Only unused general licenses move; seated nominees and the disability reserve stay."),
        error_messages={"invalid_choice": gettext_lazy("Choose a university that has a published quota.")},
    )
    to_university = UniversityChoiceField(
        queryset=University.objects.none(),
        label=gettext_lazy("Move to"),
        help_text=gettext_lazy("Its waiting list is promoted at once, in arrival order."),
        error_messages={"invalid_choice": gettext_lazy("Choose a university that has a published quota.")},
    )
    licenses = forms.IntegerField(
        label=gettext_lazy("Number of licenses"),
        min_value=1,
        max_value=1_000_000,
        error_messages={"min_value": gettext_lazy("Move at least 1 license.")},
    )
    reason = forms.CharField(
        label=gettext_lazy("Why"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Recorded with the move, with your name and the time."),
        error_messages={"required": gettext_lazy("Please say why the licenses are moved.")},
    )
    across_pools = forms.BooleanField(
        label=gettext_lazy("Move across pools"),
        required=False,
        help_text=gettext_lazy(
            "Tick this to move licenses between a public and a private university (or NAHE): the pools' "
            "totals then change from the SOP's shares, and the reason above says why."
        ),
    )
    beyond_caps = forms.BooleanField(
        label=gettext_lazy("Override the least and most licenses per university"),
        required=False,
        help_text=gettext_lazy(
            "Without it, each university stays between the phase's least and most licenses for its pool. "
            "The override is recorded with the reason above."
        ),
    )

    def __init__(self, *args, phase: Phase, **kwargs):
        super().__init__(*args, **kwargs)
        universities = universities_with_quota(phase=phase)
        self.fields["from_university"].queryset = universities
        self.fields["to_university"].queryset = universities

    def clean(self):
        cleaned = super().clean()
        source, target = cleaned.get("from_university"), cleaned.get("to_university")
        if source is not None and source == target:
            self.add_error("to_university", _("Choose a different university from the one the licenses come from."))
        return cleaned
