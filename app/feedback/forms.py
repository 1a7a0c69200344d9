"""Forms for feedback, its reply and report, the impact follow-up and moderation.

Each field has its own plain message for missing or out-of-range input; who may do what is
decided by app.services.feedback, which checks the values again."""
from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, SelectChoice, TextAreaField
from wtforms.validators import Length, StopValidation

from app.bookings.forms import clean_text, int_or_none
from app.models.feedback import OBJECTIVES_MET
from app.services.feedback import (
    COMMENT_MAX,
    COMMENT_MIN,
    MODERATION_VIEWS,
    REASON_MAX,
    REPLY_MAX,
    WHAT_CHANGED_MAX,
    WHAT_CHANGED_MIN,
)

RATINGS = range(1, 6)


def max_length(n: int, label: str) -> Length:
    return Length(max=n, message=f"{label} must be {n:,} characters or fewer")


def min_length(n: int, message: str) -> Length:
    return Length(min=n, message=message)


class Chosen:
    """One of the offered values, with one plain message for missing or anything else sent."""

    def __init__(self, values, message: str):
        self.values, self.message = set(values), message

    def __call__(self, form, field):
        if field.data not in self.values or isinstance(field.data, bool):
            field.errors[:] = []
            raise StopValidation(self.message)


class Written:
    """Text that is there once spaces are taken off (the filter has already stripped it)."""

    def __init__(self, message: str):
        self.message = message

    def __call__(self, form, field):
        if not field.data:
            field.errors[:] = []
            raise StopValidation(self.message)


def rating_choices(low: str, high: str):
    """1 to 5, the ends labelled so the scale reads the same way to everyone."""
    labels = {1: f"1 ({low})", 5: f"5 ({high})"}
    return [SelectChoice(value=n, label=labels.get(n, str(n))) for n in RATINGS]


def _rating(label: str, low: str, high: str, message: str) -> RadioField:
    return RadioField(label, choices=rating_choices(low, high), coerce=int_or_none, validate_choice=False,
                      validators=[Chosen(RATINGS, message)])


class FeedbackForm(FlaskForm):
    objectives_met = RadioField(
        "Did the support meet the objectives you agreed?",
        choices=[SelectChoice(value=key, label=label) for key, label in OBJECTIVES_MET.items()],
        validate_choice=False,
        validators=[Chosen(OBJECTIVES_MET, "Say whether the support met its objectives: yes, partly or no")],
    )
    quality = _rating("How good was the support?", "poor", "excellent",
                      "Choose a rating for quality from 1 to 5")
    impact = _rating("How much has it changed practice in your school?", "not at all", "a great deal",
                     "Choose a rating for impact on practice from 1 to 5")
    would_recommend = RadioField(
        "Would you recommend it to another school?",
        choices=[SelectChoice(value="yes", label="Yes"), SelectChoice(value="no", label="No")],
        validate_choice=False,
        validators=[Chosen(("yes", "no"), "Say whether you would recommend it")],
    )
    comment = TextAreaField(
        "Your feedback", filters=[clean_text],
        validators=[Written("Write your feedback: what you did, what changed and how you know"),
                    min_length(COMMENT_MIN, f"Please be specific: write at least {COMMENT_MIN} characters "
                                            "about what you did, what changed and how you know"),
                    max_length(COMMENT_MAX, "Your feedback")],
    )

    def feedback_data(self) -> dict:
        return {
            "objectives_met": self.objectives_met.data,
            "quality": self.quality.data,
            "impact": self.impact.data,
            "would_recommend": self.would_recommend.data == "yes",
            "comment": self.comment.data,
        }


class ReplyForm(FlaskForm):
    """The provider's one reply. `next` is the page it was sent from, to go back to without htmx."""

    text = TextAreaField("Your reply", filters=[clean_text],
                         validators=[Written("Write your reply"), max_length(REPLY_MAX, "The reply")])
    next = HiddenField()


class ReportForm(FlaskForm):
    reason = TextAreaField("Why should a coordinator look at it?", filters=[clean_text],
                           validators=[Written("Say why you are reporting this feedback"),
                                       max_length(REASON_MAX, "The reason")])
    next = HiddenField()


class FollowUpForm(FlaskForm):
    what_changed = TextAreaField(
        "What has changed since the support?", filters=[clean_text],
        validators=[Written("Say what has changed since the support, even if it is little"),
                    min_length(WHAT_CHANGED_MIN, f"Please be specific: write at least {WHAT_CHANGED_MIN} characters"),
                    max_length(WHAT_CHANGED_MAX, "What changed")],
    )
    impact = _rating("How much has it changed practice now?", "not at all", "a great deal",
                     "Choose a rating for impact on practice from 1 to 5")


class ModerationForm(FlaskForm):
    """Hide or restore: the reason is recorded and shown to the school that wrote it and the provider."""

    reason = TextAreaField("Reason", filters=[clean_text],
                           validators=[Written("Give a reason: the school that wrote it and the provider see it"),
                                       max_length(REASON_MAX, "The reason")])
    # The queue's tab the form was sent from, to go back to it.
    show = HiddenField()

    def tab(self) -> str:
        return self.show.data if self.show.data in MODERATION_VIEWS else "reported"
