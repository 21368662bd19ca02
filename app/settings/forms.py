from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Regexp

from app.webhooks.legacy_follow import MAX_LINK


class EventKindsForm(FlaskForm):
    """The switches are checkboxes named `keep` (one per kind, read as a
    list); the form carries the CSRF token."""

    submit = SubmitField("Save")


class DeleteDataForm(FlaskForm):
    submit = SubmitField("Delete my data")


class FollowForm(FlaskForm):
    """A link's clicks or a product's purchases, followed through Kit's legacy
    webhooks; what Kit takes is checked by `legacy_follow.checked`."""

    what = RadioField(
        "What to follow",
        choices=[
            SelectChoice("link", "Clicks on a link"),
            SelectChoice("product", "Purchases of a product"),
        ],
        default="link",
    )
    target = StringField(
        "Link or product id",
        validators=[
            DataRequired("Enter a link from your emails, or a product id."),
            Length(max=MAX_LINK, message=f"At most {MAX_LINK} characters."),
        ],
    )
    submit = SubmitField("Follow")


class UnfollowForm(FlaskForm):
    """One per followed link or product: its row's id."""

    rule = HiddenField(validators=[Regexp(r"^[0-9]{1,12}$")])
    submit = SubmitField("Unfollow")
