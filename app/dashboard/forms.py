from flask_wtf import FlaskForm
from wtforms import EmailField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Email, Length, Optional


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


class RefreshForm(FlaskForm):
    submit = SubmitField("Refresh")


class AddSubscriberForm(FlaskForm):
    email_address = EmailField(
        "Email",
        filters=[_strip],
        validators=[
            DataRequired(),
            Email(message="Enter an email address."),
            Length(max=254),
        ],
    )
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
    email_address = EmailField(
        "Subscriber email",
        filters=[_strip],
        validators=[
            DataRequired(),
            Email(message="Enter an email address."),
            Length(max=254),
        ],
    )
    submit = SubmitField("Tag subscriber")
