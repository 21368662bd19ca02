from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, SelectField, StringField, SubmitField
from wtforms.fields.core import UnboundField
from wtforms.validators import DataRequired, Email, Length, Optional

from app.kit.resources import Tag


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


def _email_field(label: str) -> UnboundField:
    return EmailField(
        label,
        filters=[_strip],
        validators=[
            DataRequired(),
            Email(message="Enter an email address."),
            Length(max=254),
        ],
    )


class ReloadForm(FlaskForm):
    submit = SubmitField("Reload")


class AddSubscriberForm(FlaskForm):
    email_address = _email_field("Email")
    first_name = StringField(
        "First name (optional)",
        filters=[_strip],
        validators=[Optional(), Length(max=255)],
    )
    submit = SubmitField("Add subscriber")


class CreateTagForm(FlaskForm):
    # No DataRequired: a blank name goes to Kit, whose 422 message is shown
    # next to the field, as the worked example of handling Kit's validation.
    name = StringField("Tag name", filters=[_strip], validators=[Length(max=255)])
    submit = SubmitField("Create tag")


class TagSubscriberForm(FlaskForm):
    tag_id = SelectField("Tag", coerce=int, validate_choice=True)
    email_address = _email_field("Subscriber email")
    submit = SubmitField("Tag subscriber")

    def offer(self, tags: list[Tag]) -> None:
        """The tags to choose from: Kit's, so a forged id fails validation."""
        self.tag_id.choices = [(tag.id, tag.name) for tag in tags]


class AddTagForm(FlaskForm):
    """The subscriber page's "Add a tag": one of the account's tags."""

    tag_id = SelectField("Tag", coerce=int, validate_choice=True)
    submit = SubmitField("Add tag")

    def offer(self, tags: list[Tag]) -> None:
        self.tag_id.choices = [(tag.id, tag.name) for tag in tags]


class RemoveTagForm(FlaskForm):
    """A "Remove" button next to one of a subscriber's tags (CSRF only: the
    tag is in the URL)."""

    submit = SubmitField("Remove")
