"""Every e-mail of the portal in both of its languages: English first, then Urdu.

The sender never knows the reader's language (the choice lives in a browser cookie, and a
focal person forwards mails to colleagues), so each message carries both. Templates are
written once, with ``{% translate %}``, and rendered once per language; the Urdu text comes
from the same catalogue as the pages, so a mail and the page it points to say the same thing.

An HTML template holds only the body's content; ``email/bilingual.html`` puts the English
part in a left-to-right block and the Urdu part in a right-to-left one. A mail without an
HTML template (allauth's) gets its HTML part from the text, so every mail reads correctly
in a client that shows only HTML.
"""

from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.html import linebreaks, urlize
from django.utils.safestring import mark_safe

LANGUAGES = ("en", "ur")
URDU_HEADING = "اردو"
TEXT_SEPARATOR = "-" * 60


def _render(template_name: str, context: dict[str, Any], request: HttpRequest | None) -> str:
    return render_to_string(template_name, context, request).strip()


def bilingual_email(
    *,
    subject_template: str,
    text_template: str,
    html_template: str | None = None,
    context: dict[str, Any],
    to: list[str],
    from_email: str | None = None,
    headers: dict[str, str] | None = None,
    request: HttpRequest | None = None,
) -> EmailMultiAlternatives:
    """A message whose subject, text and HTML carry the English and the Urdu rendering."""
    subjects, texts, htmls = [], [], []
    for language in LANGUAGES:
        with translation.override(language):
            subjects.append(" ".join(_render(subject_template, context, request).split()))
            text = _render(text_template, context, request)
            texts.append(text)
            if html_template:
                htmls.append(_render(html_template, context, request))
            else:
                htmls.append(linebreaks(urlize(text, autoescape=True)))
    english_subject, urdu_subject = subjects
    # A string without an Urdu translation would otherwise appear twice in the subject line.
    subject = english_subject if urdu_subject == english_subject else f"{english_subject} / {urdu_subject}"
    text = f"{texts[0]}\n\n{TEXT_SEPARATOR}\n{URDU_HEADING}\n\n{texts[1]}\n"
    # Both halves come from autoescaping templates or from urlize(autoescape=True): already escaped.
    english_html, urdu_html = (mark_safe(part) for part in htmls)  # noqa: S308
    html = render_to_string("email/bilingual.html", {"subject": subject, "english": english_html, "urdu": urdu_html})
    message = EmailMultiAlternatives(subject=subject, body=text, from_email=from_email, to=to, headers=headers)
    message.attach_alternative(html, "text/html")
    return message


def bilingual_email_from(
    *, prefix: str, context: dict[str, Any], to: list[str], html: bool = True
) -> EmailMultiAlternatives:
    """The message of the templates ``<prefix>_subject.txt``, ``<prefix>_body.txt`` and ``<prefix>_body.html``."""
    return bilingual_email(
        subject_template=f"{prefix}_subject.txt",
        text_template=f"{prefix}_body.txt",
        html_template=f"{prefix}_body.html" if html else None,
        context=context,
        to=to,
    )


# The Celery options of every task that sends one e-mail: the message stays in the broker until the
# task returns (acks_late), and a mail server that refuses, resets or times out (OSError, SMTP's
# errors included) is tried again with a growing pause, a bounded number of times.
MAIL_TASK_OPTIONS = {
    "bind": True,
    "acks_late": True,
    "autoretry_for": (OSError,),
    "retry_backoff": settings.INVITATION_RETRY_BACKOFF,
    "retry_backoff_max": settings.INVITATION_RETRY_BACKOFF_MAX,
    "max_retries": settings.INVITATION_MAX_RETRIES,
}


def email_after_commit(task, *args: Any) -> None:
    """Queue an e-mail's Celery task (which takes primary keys and retries) once the current
    transaction commits, so nobody is told of a change that was rolled back. `robust`: a broker
    that is down at that moment must not turn the committed change into an error page."""
    transaction.on_commit(lambda: task.delay(*args), robust=True)
